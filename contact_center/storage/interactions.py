"""Writing finished calls as interactions, exactly once per (node, linkedid)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.calls.tracker import FinishedCall
from contact_center.storage.models import Customer, Interaction, InteractionEvent, Task, User

# Core tables, not the ORM classes: an ORM bulk insert does per-row bookkeeping that a
# plain executemany of dicts does not need (it was about a third of the ingest benchmark's
# CPU).
_INTERACTIONS = cast(Table, Interaction.__table__)
_STEPS = cast(Table, InteractionEvent.__table__)
_TASKS = cast(Table, Task.__table__)
CALLBACK_TITLE = "Callback requested after hours"


def _insert_ignoring_duplicates(dialect: str) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(_INTERACTIONS).on_conflict_do_nothing(
            index_elements=["node", "linkedid"]
        )
    return sqlite.insert(_INTERACTIONS).on_conflict_do_nothing(index_elements=["node", "linkedid"])


async def save_call(session: AsyncSession, call: FinishedCall) -> int | None:
    """Insert one call and its steps; returns the new id, or None if it was already logged."""
    [interaction_id] = await save_calls(session, [call])
    return interaction_id


async def save_calls(session: AsyncSession, calls: Sequence[FinishedCall]) -> list[int | None]:
    """Insert the calls and their steps in a few statements, whatever their number; returns
    each call's new id, or None for a call that was already logged (same node and linkedid).

    The caller commits. A customer id that no longer exists is dropped rather than losing
    the call; the agent is resolved from the phone interface that answered. The caller's
    E.164 number, the figures and ``complete`` are the tracker's (see FinishedCall).
    """
    if not calls:
        return []
    interfaces = {c.agent_interface for c in calls if c.agent_interface}
    agents: dict[str, int] = {}
    if interfaces:
        rows = await session.execute(
            select(User.interface, User.id).where(User.interface.in_(interfaces))
        )
        agents = {interface: user_id for interface, user_id in rows if interface is not None}
    wanted = {c.customer_id for c in calls if c.customer_id is not None}
    customers: set[int] = set()
    if wanted:
        customers = set(await session.scalars(select(Customer.id).where(Customer.id.in_(wanted))))

    def known(call: FinishedCall) -> int | None:
        return call.customer_id if call.customer_id in customers else None

    dialect = (await session.connection()).dialect.name
    rows_in = [
        {
            "node": call.node,
            "linkedid": call.linkedid,
            "uniqueid": call.uniqueid,
            "channel": "voice",
            "direction": "inbound",
            "customer_id": known(call),
            "caller_number": call.caller_number[:64],
            "caller_e164": call.caller_e164,
            "caller_name": call.caller_name[:200],
            "dialed_number": call.dialed_number[:64],
            "queue": call.queue,
            "agent_id": agents.get(call.agent_interface or ""),
            "agent_interface": call.agent_interface,
            "route_rule": call.route_rule,
            "route_reason": (call.route_reason or "")[:400] or None,
            "started_at": call.started_at,
            "answered_at": call.answered_at,
            "ended_at": call.ended_at,
            "wait_seconds": call.wait_seconds,
            "talk_seconds": call.talk_seconds,
            "ring_seconds": call.ring_seconds,
            "hold_seconds": call.hold_seconds,
            "wrapup_seconds": call.wrapup_seconds,
            "transfers": call.transfers,
            "outcome": call.outcome,
            "hangup_by": call.hangup_by,
            "complete": call.complete,
            "notes": "",
        }
        for call in calls
    ]
    statement = _insert_ignoring_duplicates(dialect).returning(
        _INTERACTIONS.c.id, _INTERACTIONS.c.node, _INTERACTIONS.c.linkedid
    )
    inserted = {
        (node, linkedid): interaction_id
        for interaction_id, node, linkedid in await session.execute(statement, rows_in)
    }
    ids: list[int | None] = []
    for call in calls:  # the same call twice in one batch: the second was "already logged"
        ids.append(inserted.pop((call.node, call.linkedid), None))
    steps = [
        {
            "interaction_id": interaction_id,
            "seq": seq,
            "at": step.at,
            "kind": step.kind,
            "queue": step.queue,
            "agent_interface": step.agent_interface,
            "detail": step.detail,
        }
        for call, interaction_id in zip(calls, ids, strict=True)
        if interaction_id is not None
        for seq, step in enumerate(call.steps, start=1)
    ]
    if steps:
        await session.execute(insert(_STEPS), steps)
    callbacks = [
        _callback_task(call, interaction_id, known(call))
        for call, interaction_id in zip(calls, ids, strict=True)
        if interaction_id is not None
        and call.outcome == "callback_requested"
        and (call.caller_e164 or call.caller_number)
    ]
    if callbacks:
        await session.execute(insert(_TASKS), callbacks)
    return ids


def _callback_task(
    call: FinishedCall, interaction_id: int, customer_id: int | None
) -> dict[str, Any]:
    """The callback a caller asked for after hours: an open task of the queue the call was
    routed to, due at once, so the queue's agents find it among their due tasks when they
    are next at work (written with the interaction: once, in the same transaction). A
    withheld number asks for nothing: there is no number to call back."""
    return {
        "kind": "callback",
        "status": "open",
        "customer_id": customer_id,
        "phone_number": (call.caller_e164 or call.caller_number)[:64],
        "interaction_id": interaction_id,
        "queue": call.queue,
        "title": CALLBACK_TITLE,
        "notes": "",
        "due_at": call.ended_at,
        "created_at": call.ended_at,
    }
