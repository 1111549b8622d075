"""Due tasks come back to their agents once, from the database: the assignee, or every
member of the task's queue; a second web process (or a restart) does not remind again."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from contact_center.bus import BusMessage, MemoryBus
from contact_center.crm import create_task
from contact_center.desk import reminders
from contact_center.storage.models import Task
from tests.crm.conftest import NOW, Database, Seed


async def drained(bus: MemoryBus, messages: list[BusMessage], count: int) -> None:
    async def read() -> None:
        async for message in bus.subscribe():
            messages.append(message)
            if len(messages) == count:
                return

    await asyncio.wait_for(read(), 2.0)


async def test_a_due_task_is_claimed_once_and_told_to_its_agents(
    database: Database, seed: Seed
) -> None:
    async with database.sessions() as session, session.begin():
        for title, due, assignee, queue in (
            ("Call Żaneta back", NOW - dt.timedelta(minutes=1), seed.anna, None),
            ("Anyone in support-pl", NOW, None, "support-pl"),
            ("Not yet", NOW + dt.timedelta(minutes=5), seed.olena, None),
        ):
            await create_task(
                session,
                kind="follow_up",
                title=title,
                due_at=due,
                region="PL",
                user_id=seed.anna,
                customer_id=seed.zaneta,
                assigned_to_id=assignee,
                queue=queue,
            )
    bus = MemoryBus()
    messages: list[BusMessage] = []
    reader = asyncio.create_task(drained(bus, messages, 2))
    await asyncio.sleep(0)
    # two web processes look at the same moment: only one gets each task
    first, second = await asyncio.gather(
        reminders.remind_once(database.sessions, bus, NOW),
        reminders.remind_once(database.sessions, bus, NOW),
    )
    assert first | second == {seed.anna, seed.olena}  # olena works support-pl too
    assert not (first & second)
    await reader
    assert sorted(m.data["user_id"] for m in messages) == sorted([seed.anna, seed.olena])
    assert {m.topic for m in messages} == {"user.tasks_due"}
    # later: the next one falls due, the others are not told again
    assert await reminders.remind_once(database.sessions, bus, NOW + dt.timedelta(minutes=6)) == {
        seed.olena
    }
    assert await reminders.remind_once(database.sessions, bus, NOW + dt.timedelta(hours=1)) == set()
    async with database.sessions() as session:
        reminded = (await session.scalars(select(Task.reminded_at))).all()
    assert all(at is not None for at in reminded)


async def test_a_done_task_is_not_reminded(database: Database, seed: Seed) -> None:
    async with database.sessions() as session, session.begin():
        task = await create_task(
            session,
            kind="callback",
            title="Ring back",
            due_at=NOW,
            region="PL",
            user_id=seed.anna,
            customer_id=seed.zaneta,
            assigned_to_id=seed.anna,
        )
        row = await session.get(Task, task.id)
        assert row is not None
        row.status = "done"
    assert await reminders.remind_once(database.sessions, MemoryBus(), NOW) == set()
