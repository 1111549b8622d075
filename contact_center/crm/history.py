"""A customer's contact history: calls and contacts logged by hand, newest first.

Pages are cut by keyset on (started_at, id), never by OFFSET: a page costs the same however
deep it is, and a contact logged meanwhile does not shift the next page. A page is one
query (the interactions with their agent's name, by the index on (customer_id, started_at));
the first page adds one for the customer's open tasks. Only an empty page asks whether the
customer exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.crm.checks import MAX_ID
from contact_center.crm.tasks import open_tasks_statement, task_view
from contact_center.crm.views import HistoryCursor, HistoryEntry, HistoryPage, TaskView
from contact_center.errors import CustomerNotFound, SearchInvalid
from contact_center.storage.models import Customer, Interaction, User

MAX_LIMIT = 500


def _entries() -> Select[*tuple[Any, ...]]:
    return select(
        Interaction.id,
        Interaction.channel,
        Interaction.direction,
        Interaction.started_at,
        Interaction.ended_at,
        Interaction.outcome,
        Interaction.disposition,
        Interaction.subject,
        Interaction.notes,
        Interaction.queue,
        Interaction.agent_id,
        User.display_name,
        Interaction.caller_number,
        Interaction.route_rule,
        Interaction.route_reason,
        Interaction.wait_seconds,
        Interaction.ring_seconds,
        Interaction.talk_seconds,
        Interaction.hold_seconds,
        Interaction.wrapup_seconds,
        Interaction.transfers,
        Interaction.complete,
    ).outerjoin(User, User.id == Interaction.agent_id)


ENTRIES = _entries()


def customer_id_of(value: object) -> int:
    """A customer id to look up: not an int is a caller's mistake; out of range, nobody."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise SearchInvalid("customer_id must be a whole number")
    if not 0 < value <= MAX_ID:
        raise CustomerNotFound(value)
    return value


async def contact_history(
    session: AsyncSession,
    customer_id: int,
    *,
    limit: int = 50,
    before: HistoryCursor | None = None,
) -> HistoryPage:
    """Up to ``limit`` interactions of the customer older than ``before`` (newest first),
    and on the first page the customer's open tasks. CustomerNotFound if there is none."""
    customer_id = customer_id_of(customer_id)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise SearchInvalid(f"limit must be from 1 to {MAX_LIMIT}")
    statement = ENTRIES.where(Interaction.customer_id == customer_id)
    if before is not None:
        statement = statement.where(
            or_(
                Interaction.started_at < before.started_at,
                and_(Interaction.started_at == before.started_at, Interaction.id < before.id),
            )
        )
    statement = statement.order_by(Interaction.started_at.desc(), Interaction.id.desc()).limit(
        limit + 1
    )
    rows = (await session.execute(statement)).all()
    entries = tuple(HistoryEntry(*row) for row in rows[:limit])
    tasks: tuple[TaskView, ...] = ()
    if before is None:
        tasks = tuple(
            task_view(row) for row in await session.execute(open_tasks_statement(customer_id))
        )
    if not entries and not tasks:
        found = await session.scalar(select(Customer.id).where(Customer.id == customer_id))
        if found is None:
            raise CustomerNotFound(customer_id)
    return HistoryPage(
        customer_id=customer_id,
        entries=entries,
        open_tasks=tasks,
        next_before=entries[-1].cursor if len(rows) > limit else None,
    )
