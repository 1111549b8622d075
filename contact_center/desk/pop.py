"""What the screen pop shows beside the live call: the caller's customer card with the
contact history, the other customers sharing the number (ranked as the routing decision
ranked them), or, for an unknown number, the forms to add or link a customer; and the notes
form with the disposition codes and what was saved for the call so far.

The customers of the call on the agent's own phone are theirs to see (it is their call);
the bridge only publishes a call to the phone that rings, so no other agent gets them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.agents import codes
from contact_center.bus import AgentCall
from contact_center.crm import (
    CustomerCard,
    HistoryEntry,
    HistoryPage,
    TaskView,
    contact_history,
    customer_card,
)
from contact_center.desk.visibility import customers_of_call
from contact_center.errors import CustomerNotFound
from contact_center.storage.models import CallNote

T = TypeVar("T")

HISTORY: Final = 5
"""Latest interactions shown for the caller's customer."""
CANDIDATES: Final = 5
"""Other customers sharing the number shown, at most."""


@dataclass(frozen=True, slots=True)
class PopCustomer:
    card: CustomerCard
    history: tuple[HistoryEntry, ...]
    open_tasks: tuple[TaskView, ...]
    more_history: bool


@dataclass(frozen=True, slots=True)
class Draft:
    """What the agent saved about the call so far."""

    notes: str = ""
    disposition: str | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class Pop:
    node: str
    linkedid: str
    number: str | None
    customer: PopCustomer | None
    """The customer the call was routed for (or the one the agent linked the number to)."""
    candidates: tuple[CustomerCard, ...]
    """The others sharing the number, in the decision's order."""
    dispositions: tuple[codes.Code, ...]
    draft: Draft

    @property
    def key(self) -> tuple[str, str]:
        return self.node, self.linkedid


def ranked_for(ranked: tuple[int, ...], draft: Draft) -> list[int]:
    """The call's customers in order; one the agent linked the number to comes first."""
    order = list(ranked)
    if draft.customer_id is not None:
        if draft.customer_id in order:
            order.remove(draft.customer_id)
        order.insert(0, draft.customer_id)
    return order


async def load_customer(session: AsyncSession, customer_id: int) -> PopCustomer | None:
    try:
        card = await customer_card(session, customer_id)
        page = await contact_history(session, customer_id, limit=HISTORY)
    except CustomerNotFound:
        return None
    return PopCustomer(card, page.entries, page.open_tasks, page.next_before is not None)


async def draft_of(session: AsyncSession, node: str, linkedid: str, user_id: int) -> Draft:
    row = (
        await session.execute(
            select(CallNote.notes, CallNote.disposition, CallNote.customer_id).where(
                CallNote.node == node, CallNote.linkedid == linkedid, CallNote.user_id == user_id
            )
        )
    ).first()
    return Draft() if row is None else Draft(row[0], row[1], row[2])


async def load(sessions: async_sessionmaker[AsyncSession], call: AgentCall, user_id: int) -> Pop:
    """The pop for `call` on the phone of user `user_id` (one session, a few queries)."""
    async with sessions() as session:
        return await load_in(
            session,
            node=call.node,
            linkedid=call.linkedid,
            number=call.caller_number,
            ranked=customers_of_call(call),
            user_id=user_id,
        )


async def load_in(
    session: AsyncSession,
    *,
    node: str,
    linkedid: str,
    number: str | None,
    ranked: tuple[int, ...],
    user_id: int,
) -> Pop:
    """The pop of call (node, linkedid) for the user: `ranked` are the customers the call
    came with (the routed one first); a customer the user linked the number to comes first."""
    draft = await draft_of(session, node, linkedid, user_id)
    order = ranked_for(ranked, draft)
    customer = await load_customer(session, order[0]) if order else None
    candidates: list[CustomerCard] = []
    for other in order[1 : 1 + CANDIDATES]:
        try:
            candidates.append(await customer_card(session, other))
        except CustomerNotFound:
            continue
    dispositions = tuple(await codes.list_codes(session, codes.DISPOSITION))
    return Pop(
        node=node,
        linkedid=linkedid,
        number=number,
        customer=customer,
        candidates=tuple(candidates),
        dispositions=dispositions,
        draft=draft,
    )


async def _in(
    sessions: async_sessionmaker[AsyncSession], job: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    async with sessions() as session:
        return await job(session)


async def _or_none(job: Awaitable[T]) -> T | None:
    try:
        return await job
    except CustomerNotFound:
        return None


async def load_concurrently(
    sessions: async_sessionmaker[AsyncSession], call: AgentCall, user_id: int
) -> Pop:
    """The same pop as `load`, its reads side by side, each on a connection of its own: on
    PostgreSQL a pop costs the longest of them, not the sum of some ten round trips. (A
    call whose number the agent linked to another customer is rare: loaded as `load` does.)"""
    ranked = customers_of_call(call)
    first, others = (ranked[0], ranked[1 : 1 + CANDIDATES]) if ranked else (None, ())

    async def card(customer_id: int) -> CustomerCard | None:
        return await _or_none(_in(sessions, lambda s: customer_card(s, customer_id)))

    async def history(customer_id: int) -> HistoryPage | None:
        return await _or_none(
            _in(sessions, lambda s: contact_history(s, customer_id, limit=HISTORY))
        )

    async with asyncio.TaskGroup() as group:  # a failing read cancels the others
        draft_read = group.create_task(
            _in(sessions, lambda s: draft_of(s, call.node, call.linkedid, user_id))
        )
        codes_read = group.create_task(
            _in(sessions, lambda s: codes.list_codes(s, codes.DISPOSITION))
        )
        first_reads = (
            (group.create_task(card(first)), group.create_task(history(first)))
            if first is not None
            else None
        )
        other_reads = [group.create_task(card(other)) for other in others]
    draft, dispositions = draft_read.result(), codes_read.result()
    first_card, first_page = (
        (first_reads[0].result(), first_reads[1].result()) if first_reads else (None, None)
    )
    candidates = [read.result() for read in other_reads]
    if draft.customer_id is not None and draft.customer_id != first:
        return await load(sessions, call, user_id)
    customer = None
    if first_card is not None and first_page is not None:
        customer = PopCustomer(
            first_card,
            first_page.entries,
            first_page.open_tasks,
            first_page.next_before is not None,
        )
    return Pop(
        node=call.node,
        linkedid=call.linkedid,
        number=call.caller_number,
        customer=customer,
        candidates=tuple(c for c in candidates if c is not None),
        dispositions=tuple(dispositions),
        draft=draft,
    )
