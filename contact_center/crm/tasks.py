"""Follow-ups and callbacks: create, complete, cancel, and what is due for an agent.

A task is for one agent (``assigned_to_id``) or for anyone working a queue (``queue``), never
both: an agent who completes a queue's task takes it (it is assigned to them). A callback
always has a number to call (E.164): the one given, or else the customer's first. Functions
take the caller's session and flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from contact_center.crm.checks import (
    NOTES_MAX,
    SUBJECT_MAX,
    aware,
    identifier,
    multi_line,
    one_line,
)
from contact_center.crm.views import TaskView
from contact_center.errors import CustomerNotFound, TaskClosed, TaskInvalid, TaskNotFound
from contact_center.routing.numbers import normalize
from contact_center.storage.models import (
    TASK_KIND_VALUES,
    Customer,
    Interaction,
    PhoneNumber,
    Queue,
    QueueMembership,
    Task,
    User,
)

log = logging.getLogger(__name__)

DUE_LIMIT = 200
"""At most this many due tasks come back at once (the oldest due first)."""

_assignee = aliased(User)


def task_rows() -> Select[*tuple[Any, ...]]:
    """Tasks with their customer's name and their assignee's display name (one query)."""
    return (
        select(
            Task.id,
            Task.kind,
            Task.status,
            Task.title,
            Task.notes,
            Task.due_at,
            Task.customer_id,
            Customer.name,
            Task.phone_number,
            Task.queue,
            Task.assigned_to_id,
            _assignee.display_name,
            Task.interaction_id,
            Task.created_by_id,
            Task.created_at,
            Task.done_at,
        )
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .outerjoin(_assignee, _assignee.id == Task.assigned_to_id)
    )


def task_view(row: Any) -> TaskView:
    return TaskView(*row)


async def _one(session: AsyncSession, task_id: int) -> TaskView:
    row = (await session.execute(task_rows().where(Task.id == task_id))).one()
    return task_view(row)


async def _active_user(session: AsyncSession, user_id: object, field: str) -> int:
    ident = identifier(user_id, field, TaskInvalid)
    found = await session.scalar(select(User.id).where(User.id == ident, User.active))
    if found is None:
        raise TaskInvalid(f"{field}: no active user {ident}")
    return ident


async def _customer_exists(session: AsyncSession, customer_id: int) -> None:
    if await session.scalar(select(Customer.id).where(Customer.id == customer_id)) is None:
        raise CustomerNotFound(customer_id)


async def create_task(
    session: AsyncSession,
    *,
    kind: str,
    title: str,
    due_at: dt.datetime,
    region: str,
    user_id: int | None,
    customer_id: int | None = None,
    phone_number: str = "",
    assigned_to_id: int | None = None,
    queue: str | None = None,
    notes: str = "",
) -> TaskView:
    """A new open task, for a customer or a bare number, for an agent or a queue.

    ``region`` reads national numbers (the settings' ``default_region``); ``user_id`` is who
    creates it (None: the system, e.g. a callback asked for after hours)."""
    if kind not in TASK_KIND_VALUES:
        raise TaskInvalid(f"kind must be one of {', '.join(TASK_KIND_VALUES)}")
    title = one_line(title, "title", SUBJECT_MAX, TaskInvalid)
    if not title:
        raise TaskInvalid("a task needs a title")
    notes = multi_line(notes, "notes", NOTES_MAX, TaskInvalid)
    due_at = aware(due_at, "due_at", TaskInvalid)
    number = one_line(phone_number, "phone_number", 64, TaskInvalid)
    e164 = ""
    if number:
        e164 = normalize(number, region) or ""
        if not e164:
            raise TaskInvalid(f"phone_number {number!r} is not a valid number")
    if customer_id is None and not e164:
        raise TaskInvalid("a task is for a customer or a phone number")
    if (assigned_to_id is None) == (queue is None):
        raise TaskInvalid("a task is for an agent (assigned_to_id) or a queue, not both")

    if customer_id is not None:
        customer_id = identifier(customer_id, "customer_id", TaskInvalid)
        await _customer_exists(session, customer_id)
        if kind == "callback" and not e164:
            e164 = (
                await session.scalar(
                    select(PhoneNumber.e164)
                    .where(PhoneNumber.customer_id == customer_id)
                    .order_by(PhoneNumber.id)
                    .limit(1)
                )
            ) or ""
    if kind == "callback" and not e164:
        raise TaskInvalid("a callback needs a number to call: the customer has none")
    if assigned_to_id is not None:
        assigned_to_id = await _active_user(session, assigned_to_id, "assigned_to_id")
    if queue is not None:
        queue_id = None
        if isinstance(queue, str):
            queue_id = await session.scalar(select(Queue.id).where(Queue.name == queue))
        if queue_id is None:
            raise TaskInvalid(f"queue: no queue named {queue!r}")
    if user_id is not None:
        user_id = await _active_user(session, user_id, "user_id")

    task = Task(
        kind=kind,
        status="open",
        customer_id=customer_id,
        phone_number=e164,
        queue=queue,
        title=title,
        notes=notes,
        due_at=due_at,
        assigned_to_id=assigned_to_id,
        created_by_id=user_id,
    )
    session.add(task)
    await session.flush()
    log.info("task %s (%s) created for %s", task.id, kind, assigned_to_id or queue)
    return await _one(session, task.id)


async def _open_task(session: AsyncSession, task_id: object) -> tuple[int, str, int | None]:
    """The id, kind and customer of an open task; TaskNotFound or TaskClosed otherwise."""
    ident = identifier(task_id, "task_id", TaskInvalid)
    row = (
        await session.execute(
            select(Task.kind, Task.status, Task.customer_id).where(Task.id == ident)
        )
    ).first()
    if row is None:
        raise TaskNotFound(ident)
    kind, status, customer_id = row
    if status != "open":
        raise TaskClosed(ident, status)
    return ident, kind, customer_id


async def _close(session: AsyncSession, task_id: int, values: dict[str, Any]) -> TaskView:
    """Close the task only if it is still open, in one UPDATE: of two agents closing the
    same task at once (PostgreSQL re-reads the row after the first commits; SQLite runs one
    writer at a time), one wins and the other gets TaskClosed."""
    result = await session.execute(
        update(Task).where(Task.id == task_id, Task.status == "open").values(**values),
        execution_options={"synchronize_session": False},
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        status = await session.scalar(select(Task.status).where(Task.id == task_id))
        raise TaskClosed(task_id, status or "gone")
    return await _one(session, task_id)


async def complete_task(
    session: AsyncSession,
    task_id: int,
    *,
    user_id: int,
    at: dt.datetime,
    interaction_id: int | None = None,
) -> TaskView:
    """Mark an open task done by ``user_id`` at ``at``; a queue's task becomes theirs.

    ``interaction_id`` is the call (or contact) that did it: a callback is done by a call
    (``voice``); it must be with the task's customer when both have one."""
    ident, kind, task_customer = await _open_task(session, task_id)
    at = aware(at, "at", TaskInvalid)
    user_id = await _active_user(session, user_id, "user_id")
    values: dict[str, Any] = {
        "status": "done",
        "done_at": at,
        "assigned_to_id": func.coalesce(Task.assigned_to_id, user_id),
    }
    if interaction_id is not None:
        done_by = identifier(interaction_id, "interaction_id", TaskInvalid)
        row = (
            await session.execute(
                select(Interaction.channel, Interaction.customer_id).where(
                    Interaction.id == done_by
                )
            )
        ).first()
        if row is None:
            raise TaskInvalid(f"interaction_id: no interaction {done_by}")
        channel, customer_id = row
        if kind == "callback" and channel != "voice":
            raise TaskInvalid(f"a callback is done by a call, not by a {channel}")
        if task_customer is not None and customer_id not in (None, task_customer):
            raise TaskInvalid(f"interaction {done_by} is another customer's")
        values["interaction_id"] = done_by
    task = await _close(session, ident, values)
    log.info("task %s done by user %s", ident, user_id)
    return task


async def cancel_task(
    session: AsyncSession, task_id: int, *, user_id: int, at: dt.datetime
) -> TaskView:
    """Cancel an open task (it will not come back to anyone)."""
    ident, _, _ = await _open_task(session, task_id)
    at = aware(at, "at", TaskInvalid)
    user_id = await _active_user(session, user_id, "user_id")
    task = await _close(session, ident, {"status": "cancelled", "done_at": at})
    log.info("task %s cancelled by user %s", ident, user_id)
    return task


def _for_user(user_id: int) -> Any:
    """Tasks of the user, and tasks of the queues the user works (a queue's task has no
    agent until someone completes it)."""
    their_queues = (
        select(Queue.name)
        .join(QueueMembership, QueueMembership.queue_id == Queue.id)
        .where(QueueMembership.user_id == user_id)
    )
    return or_(Task.assigned_to_id == user_id, Task.queue.in_(their_queues))


async def due_tasks(
    session: AsyncSession, user_id: int, now: dt.datetime, *, limit: int = DUE_LIMIT
) -> tuple[TaskView, ...]:
    """The open tasks due by ``now`` that come back to this agent: their own, and those of
    the queues they work; the longest overdue first."""
    now = aware(now, "now", TaskInvalid)
    user_id = identifier(user_id, "user_id", TaskInvalid)
    rows = await session.execute(
        task_rows()
        .where(Task.status == "open", Task.due_at <= now, _for_user(user_id))
        .order_by(Task.due_at, Task.id)
        .limit(limit)
    )
    return tuple(task_view(row) for row in rows)


async def next_due_at(session: AsyncSession, user_id: int, now: dt.datetime) -> dt.datetime | None:
    """When the agent's next task falls due after ``now`` (to wake up then, not poll)."""
    now = aware(now, "now", TaskInvalid)
    user_id = identifier(user_id, "user_id", TaskInvalid)
    return await session.scalar(
        select(Task.due_at)
        .where(Task.status == "open", Task.due_at > now, _for_user(user_id))
        .order_by(Task.due_at)
        .limit(1)
    )


def open_tasks_statement(customer_id: int) -> Select[*tuple[Any, ...]]:
    return (
        task_rows()
        .where(Task.customer_id == customer_id, Task.status == "open")
        .order_by(Task.due_at, Task.id)
    )


async def open_tasks_for_customer(session: AsyncSession, customer_id: int) -> tuple[TaskView, ...]:
    """The customer's open tasks, soonest due first."""
    ident = identifier(customer_id, "customer_id", TaskInvalid)
    tasks = tuple(task_view(row) for row in await session.execute(open_tasks_statement(ident)))
    if not tasks:
        await _customer_exists(session, ident)
    return tasks
