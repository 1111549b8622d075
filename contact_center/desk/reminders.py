"""Due tasks come back to their agents: each web process looks in the database every few
seconds for open tasks that fell due and were not yet reminded of, claims them with one
UPDATE (so with several web processes exactly one delivers each reminder, and a restart
loses none: what is due is in the database, not in a timer), and publishes
`user.tasks_due` for every agent concerned (the assignee, or every member of the task's
queue). Their pages then read their due tasks from the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.bus import Bus, BusMessage
from contact_center.desk import call_notes
from contact_center.errors import BusUnavailable
from contact_center.storage.models import Queue, QueueMembership, Task, utcnow

log = logging.getLogger(__name__)

TOPIC: Final = "user.tasks_due"
EVERY: Final = 2.0
"""Seconds between two looks at the database (reminders and notes waiting for their call)."""


async def claim_due(session: AsyncSession, now: dt.datetime) -> set[int]:
    """Mark the open tasks due by `now` not yet reminded of as reminded; the users to tell.
    Nothing due (most looks) is found by a read: no write lock is taken (SQLite's is one
    for the whole file, which the bridge needs to write calls)."""
    due = (Task.status == "open", Task.due_at <= now, Task.reminded_at.is_(None))
    if await session.scalar(select(Task.id).where(*due).limit(1)) is None:
        return set()
    claimed = (
        await session.execute(
            update(Task)
            .where(*due)
            .values(reminded_at=now)
            .returning(Task.id, Task.assigned_to_id, Task.queue)
            .execution_options(synchronize_session=False)
        )
    ).all()
    users = {assignee for _, assignee, _ in claimed if assignee is not None}
    queues = {queue for _, assignee, queue in claimed if assignee is None and queue}
    if queues:
        users |= set(
            await session.scalars(
                select(QueueMembership.user_id)
                .join(Queue, Queue.id == QueueMembership.queue_id)
                .where(Queue.name.in_(queues))
            )
        )
    if claimed:
        log.info("tasks due: %s", ", ".join(str(task_id) for task_id, _, _ in claimed))
    return users


async def remind_once(
    sessions: async_sessionmaker[AsyncSession], bus: Bus, now: dt.datetime
) -> set[int]:
    """One look: claim what fell due (committed before anyone is told), tell the users."""
    async with sessions() as session, session.begin():
        users = await claim_due(session, now)
    for user_id in sorted(users):
        await bus.publish(BusMessage(TOPIC, {"user_id": user_id}))
    return users


async def run(
    sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    every: float = EVERY,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """For ever: reminders, and notes whose call's interaction was written meanwhile. A
    failing database or bus is said once and its return once."""
    failing = False
    while True:
        try:
            await remind_once(sessions, bus, clock())
            await call_notes.sweep(sessions)
        except (SQLAlchemyError, BusUnavailable, OSError) as err:
            if not failing:
                log.warning("desk reminders: database or bus unavailable (%s)", err)
                failing = True
        else:
            if failing:
                log.info("desk reminders: back")
                failing = False
        await asyncio.sleep(every)
