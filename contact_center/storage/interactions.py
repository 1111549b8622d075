"""Writing finished calls as interactions, exactly once per (node, linkedid)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.calls.tracker import FinishedCall
from contact_center.storage.models import Customer, Interaction, InteractionEvent, User


def _insert_ignoring_duplicates(dialect: str) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(Interaction).on_conflict_do_nothing(
            index_elements=["node", "linkedid"]
        )
    return sqlite.insert(Interaction).on_conflict_do_nothing(index_elements=["node", "linkedid"])


async def save_call(session: AsyncSession, call: FinishedCall) -> int | None:
    """Insert the call and its steps; returns the new id, or None if it was already logged.

    The caller commits. A customer id that no longer exists is dropped rather than losing
    the call; the agent is resolved from the phone interface that answered. The caller's
    E.164 number, the figures and ``complete`` are the tracker's (see FinishedCall).
    """
    agent_id = None
    if call.agent_interface:
        agent_id = await session.scalar(
            select(User.id).where(User.interface == call.agent_interface)
        )
    customer_id = call.customer_id
    if customer_id is not None:
        customer_id = await session.scalar(select(Customer.id).where(Customer.id == customer_id))

    dialect = (await session.connection()).dialect.name
    statement = _insert_ignoring_duplicates(dialect).values(
        node=call.node,
        linkedid=call.linkedid,
        uniqueid=call.uniqueid,
        channel="voice",
        direction="inbound",
        customer_id=customer_id,
        caller_number=call.caller_number[:64],
        caller_e164=call.caller_e164,
        caller_name=call.caller_name[:200],
        dialed_number=call.dialed_number[:64],
        queue=call.queue,
        agent_id=agent_id,
        agent_interface=call.agent_interface,
        route_rule=call.route_rule,
        route_reason=(call.route_reason or "")[:400] or None,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        wait_seconds=call.wait_seconds,
        talk_seconds=call.talk_seconds,
        ring_seconds=call.ring_seconds,
        hold_seconds=call.hold_seconds,
        wrapup_seconds=call.wrapup_seconds,
        transfers=call.transfers,
        outcome=call.outcome,
        hangup_by=call.hangup_by,
        complete=call.complete,
        notes="",
    )
    interaction_id: int | None = await session.scalar(statement.returning(Interaction.id))
    if interaction_id is None:
        return None
    if call.steps:
        await session.execute(
            insert(InteractionEvent),
            [
                {
                    "interaction_id": interaction_id,
                    "seq": seq,
                    "at": step.at,
                    "kind": step.kind,
                    "queue": step.queue,
                    "agent_interface": step.agent_interface,
                    "detail": step.detail,
                }
                for seq, step in enumerate(call.steps, start=1)
            ],
        )
    return interaction_id
