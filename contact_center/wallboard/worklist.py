"""The abandoned-call worklist: callers who hung up while waiting in a queue and have not been
reached since, oldest first.

A caller is who the metrics' first-contact resolution says (the customer when known, else
the E.164 number; withheld numbers cannot be called back and are left out). A caller is
on the list while their latest call of the period is abandoned (as the metrics count it:
short abandons are misdials, not on the list) and nobody called them back since:

- they call again: their latest call is the new one (answered: off the list; abandoned
  again: on it with the new call);
- they are called back from the list (a `callback` supervisor action that the bridge took),
  or the callback task assigned from the list is done.

Assigning an entry to an agent creates a callback task for them (`tasks`, linked to the
abandoned call), which their desk shows.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import and_, case, exists, func, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.analytics import metrics
from contact_center.storage.models import Customer, Interaction, SupervisorAction, Task, User
from contact_center.wallboard.board import Abandoned

LIMIT: Final = 200
CALLBACK: Final = "callback"


async def abandoned_callers(
    session: AsyncSession, since: dt.datetime, until: dt.datetime, limit: int = LIMIT
) -> tuple[Abandoned, ...]:
    """The worklist of `[since, until)`, oldest first."""
    caller = (
        Interaction.customer_id,
        case((Interaction.customer_id.is_(None), Interaction.caller_e164), else_=null()),
    )
    latest = (
        select(
            Interaction.id.label("id"),
            func.row_number()
            .over(
                partition_by=caller,
                order_by=(Interaction.started_at.desc(), Interaction.id.desc()),
            )
            .label("rank"),
        )
        .where(
            metrics.is_call(),
            or_(Interaction.customer_id.is_not(None), Interaction.caller_e164.is_not(None)),
            metrics.in_period(since, until),
        )
        .subquery()
    )
    called_back = exists().where(
        SupervisorAction.interaction_id == Interaction.id,
        SupervisorAction.action == CALLBACK,
        SupervisorAction.outcome == "ok",
    )
    task_done = exists().where(
        Task.interaction_id == Interaction.id, Task.kind == CALLBACK, Task.status == "done"
    )
    open_task = (
        select(Task.id.label("task_id"), Task.interaction_id, User.display_name)
        .outerjoin(User, User.id == Task.assigned_to_id)
        .where(Task.kind == CALLBACK, Task.status == "open")
        .subquery()
    )
    statement = (
        select(
            Interaction.id,
            Interaction.started_at,
            Interaction.queue,
            Interaction.caller_e164,
            Interaction.caller_number,
            Interaction.caller_name,
            Interaction.customer_id,
            Customer.name,
            Interaction.wait_seconds,
            open_task.c.display_name,
            open_task.c.task_id,
        )
        .join(latest, and_(latest.c.id == Interaction.id, latest.c.rank == 1))
        .outerjoin(Customer, Customer.id == Interaction.customer_id)
        .outerjoin(open_task, open_task.c.interaction_id == Interaction.id)
        .where(
            metrics.offered(),
            metrics.abandoned(),
            Interaction.caller_e164.is_not(None),
            ~called_back,
            ~task_done,
        )
        .order_by(Interaction.started_at, Interaction.id)
        .limit(limit)
    )
    rows = (await session.execute(statement)).all()
    seen: set[int] = set()
    found: list[Abandoned] = []
    for row in rows:
        if row[0] in seen:  # two open tasks for one call: shown once
            continue
        seen.add(row[0])
        found.append(
            Abandoned(
                interaction_id=row[0],
                started_at=row[1],
                queue=row[2] or "",
                caller_e164=row[3],
                caller_number=row[4] or "",
                caller_name=row[5] or "",
                customer_id=row[6],
                customer_name=row[7],
                wait_seconds=row[8],
                assigned_to=row[9],
                task_id=row[10],
            )
        )
    return tuple(found)
