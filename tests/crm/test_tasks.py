"""Follow-ups and callbacks: creation rules, what comes back to whom when due, completing
(a callback done by a call links it) and cancelling; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from contact_center.crm import (
    TaskView,
    cancel_task,
    complete_task,
    create_task,
    due_tasks,
    log_contact,
    next_due_at,
    open_tasks_for_customer,
)
from contact_center.errors import CustomerNotFound, TaskClosed, TaskInvalid, TaskNotFound
from contact_center.storage.models import Task
from tests.crm.conftest import NOW, Database, Seed, call

HOUR = dt.timedelta(hours=1)


async def new_task(database: Database, seed: Seed, **changes: Any) -> TaskView:
    values: dict[str, Any] = {
        "kind": "callback",
        "title": "Call back",
        "due_at": NOW,
        "region": "PL",
        "user_id": seed.anna,
        "customer_id": seed.zaneta,
        "assigned_to_id": seed.anna,
    } | changes
    async with database.sessions() as session, session.begin():
        return await create_task(session, **values)


async def tasks(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Task)) or 0)


async def test_a_callback_gets_a_number_to_call(database: Database, seed: Seed) -> None:
    # the customer's first number when none is given
    first = await new_task(database, seed)
    # a number as the agent typed it, in the default region's national format
    typed = await new_task(database, seed, phone_number="22 123 45 67", notes="Ask for Ewa")
    # a bare number, no customer, for anyone in a queue; created by the system
    bare = await new_task(
        database,
        seed,
        customer_id=None,
        phone_number="0048 512 345 678",
        assigned_to_id=None,
        queue="support-pl",
        user_id=None,
        title="Callback asked for after hours",
    )
    # a follow-up needs no number
    follow = await new_task(database, seed, kind="follow_up", customer_id=seed.olha)
    assert (first.phone_number, first.status, first.customer_name) == (
        "+48601234567",
        "open",
        "Żaneta Kowalska",
    )
    assert (first.assigned_to_name, first.created_by_id, first.queue) == (
        "Anna Nowak",
        seed.anna,
        None,
    )
    assert (typed.phone_number, typed.notes) == ("+48221234567", "Ask for Ewa")
    assert (bare.phone_number, bare.customer_id, bare.customer_name) == ("+48512345678", None, None)
    assert (bare.queue, bare.assigned_to_id, bare.created_by_id) == ("support-pl", None, None)
    assert (follow.kind, follow.phone_number) == ("follow_up", "")
    assert first.due_at == NOW
    assert first.overdue(NOW + dt.timedelta(seconds=1))
    assert not first.overdue(NOW)


INVALID: tuple[tuple[str, dict[str, Any]], ...] = (
    ("unknown kind", {"kind": "meeting"}),
    ("no title", {"title": "  "}),
    ("title on two lines", {"title": "a\nb"}),
    ("title too long", {"title": "t" * 201}),
    ("notes with a NUL", {"notes": "\x00"}),
    ("naive due time", {"due_at": dt.datetime(2026, 11, 24, 9, 0)}),
    ("not a number", {"phone_number": "call me maybe"}),
    ("too short a number", {"phone_number": "123"}),
    ("neither customer nor number", {"customer_id": None}),
    ("agent and queue", {"queue": "support-pl"}),
    ("neither agent nor queue", {"assigned_to_id": None}),
    ("unknown queue", {"assigned_to_id": None, "queue": "sales"}),
    ("queue not text", {"assigned_to_id": None, "queue": 7}),
    ("inactive agent", {"assigned_to_id": "retired"}),
    ("unknown agent", {"assigned_to_id": 999_999}),
    ("unknown creator", {"user_id": 999_999}),
    ("callback for a customer without numbers", {"customer_id": "olha"}),
)


async def test_invalid_tasks_are_refused_and_nothing_is_written(
    database: Database, seed: Seed
) -> None:
    accepted = []
    for why, changes in INVALID:
        resolved = {
            key: getattr(seed, value) if value in {"retired", "olha"} else value
            for key, value in changes.items()
        }
        try:
            await new_task(database, seed, **resolved)
        except TaskInvalid:
            continue
        accepted.append(why)
    assert accepted == []
    assert issubclass(TaskInvalid, ValueError)
    with pytest.raises(CustomerNotFound):
        await new_task(database, seed, customer_id=seed.acme + 100)
    assert await tasks(database) == 0


async def test_due_tasks_come_back_to_the_agent_and_their_queues(
    database: Database, seed: Seed
) -> None:
    annas_late = await new_task(database, seed, due_at=NOW - 2 * HOUR)
    annas_now = await new_task(database, seed, due_at=NOW)
    await new_task(database, seed, due_at=NOW + HOUR)  # not yet
    olenas = await new_task(database, seed, assigned_to_id=seed.olena, due_at=NOW - 3 * HOUR)
    pl_queue = await new_task(
        database, seed, assigned_to_id=None, queue="support-pl", due_at=NOW - HOUR
    )
    uk_queue = await new_task(
        database, seed, assigned_to_id=None, queue="support-uk", due_at=NOW - 4 * HOUR
    )
    done = await new_task(database, seed, due_at=NOW - 5 * HOUR)
    cancelled = await new_task(database, seed, due_at=NOW - 5 * HOUR)
    async with database.sessions() as session, session.begin():
        await complete_task(session, done.id, user_id=seed.anna, at=NOW)
        await cancel_task(session, cancelled.id, user_id=seed.anna, at=NOW)
    async with database.sessions() as session:
        anna = await due_tasks(session, seed.anna, NOW)
        olena = await due_tasks(session, seed.olena, NOW)
        olena_first = await due_tasks(session, seed.olena, NOW, limit=1)
        anna_next = await next_due_at(session, seed.anna, NOW)
        olena_next = await next_due_at(session, seed.olena, NOW)
    # Anna works support-pl; Olena works support-uk and support-pl; longest overdue first
    assert [t.id for t in anna] == [annas_late.id, pl_queue.id, annas_now.id]
    assert [t.id for t in olena] == [uk_queue.id, olenas.id, pl_queue.id]
    assert [t.id for t in olena_first] == [uk_queue.id]
    assert anna_next == NOW + HOUR
    assert olena_next is None


async def test_a_callback_done_by_a_call_links_it(database: Database, seed: Seed) -> None:
    callback = await new_task(database, seed, assigned_to_id=None, queue="support-pl")
    async with database.sessions() as session, session.begin():
        their_call = call(seed.zaneta, NOW, "cb-1", agent_id=seed.olena, direction="outbound")
        other_call = call(seed.acme, NOW, "cb-2", agent_id=seed.olena)
        session.add_all([their_call, other_call])
        await session.flush()
        email = await log_contact(
            session,
            customer_id=seed.zaneta,
            channel="email",
            subject="Re: delivery",
            notes="",
            at=NOW,
            user_id=seed.olena,
            now=NOW,
        )
    async with database.sessions() as session:
        with pytest.raises(TaskInvalid, match="done by a call"):
            await complete_task(
                session, callback.id, user_id=seed.olena, at=NOW, interaction_id=email.id
            )
        with pytest.raises(TaskInvalid, match="another customer's"):
            await complete_task(
                session, callback.id, user_id=seed.olena, at=NOW, interaction_id=other_call.id
            )
        with pytest.raises(TaskInvalid, match="no interaction"):
            await complete_task(
                session, callback.id, user_id=seed.olena, at=NOW, interaction_id=999_999
            )
        await session.rollback()
    async with database.sessions() as session, session.begin():
        done = await complete_task(
            session,
            callback.id,
            user_id=seed.olena,
            at=NOW + HOUR,
            interaction_id=their_call.id,
        )
    # the queue's task is now Olena's, who did it
    assert (done.status, done.done_at, done.interaction_id) == ("done", NOW + HOUR, their_call.id)
    assert (done.assigned_to_id, done.assigned_to_name) == (seed.olena, "Олена Коваленко")
    async with database.sessions() as session:
        assert await due_tasks(session, seed.anna, NOW + 2 * HOUR) == ()
        with pytest.raises(TaskClosed) as closed:
            await complete_task(session, callback.id, user_id=seed.anna, at=NOW)
        assert closed.value.status == "done"


async def test_a_follow_up_may_be_done_by_an_email(database: Database, seed: Seed) -> None:
    follow = await new_task(database, seed, kind="follow_up", assigned_to_id=seed.anna)
    async with database.sessions() as session, session.begin():
        email = await log_contact(
            session,
            customer_id=seed.zaneta,
            channel="email",
            subject="Contract",
            notes="",
            at=NOW,
            user_id=seed.anna,
            now=NOW,
        )
        done = await complete_task(
            session, follow.id, user_id=seed.anna, at=NOW, interaction_id=email.id
        )
    assert (done.status, done.interaction_id, done.assigned_to_id) == ("done", email.id, seed.anna)


async def test_cancel_and_the_errors_around_it(database: Database, seed: Seed) -> None:
    task = await new_task(database, seed)
    async with database.sessions() as session, session.begin():
        cancelled = await cancel_task(session, task.id, user_id=seed.olena, at=NOW)
    assert (cancelled.status, cancelled.done_at, cancelled.assigned_to_id) == (
        "cancelled",
        NOW,
        seed.anna,
    )
    async with database.sessions() as session:
        with pytest.raises(TaskClosed):
            await cancel_task(session, task.id, user_id=seed.anna, at=NOW)
        with pytest.raises(TaskClosed):
            await complete_task(session, task.id, user_id=seed.anna, at=NOW)
        with pytest.raises(TaskNotFound) as missing:
            await complete_task(session, task.id + 100, user_id=seed.anna, at=NOW)
        assert missing.value.task_id == task.id + 100
        with pytest.raises(TaskInvalid):
            await complete_task(session, 0, user_id=seed.anna, at=NOW)
    other = await new_task(database, seed)
    async with database.sessions() as session:
        with pytest.raises(TaskInvalid, match="no active user"):
            await cancel_task(session, other.id, user_id=seed.retired, at=NOW)
        with pytest.raises(TaskInvalid, match="timezone-aware"):
            await complete_task(session, other.id, user_id=seed.anna, at=dt.datetime(2026, 1, 1))


async def test_open_tasks_for_a_customer_soonest_first(database: Database, seed: Seed) -> None:
    later = await new_task(database, seed, due_at=NOW + 2 * HOUR)
    sooner = await new_task(database, seed, kind="follow_up", due_at=NOW + HOUR)
    same_time = await new_task(database, seed, due_at=NOW + HOUR)
    closed = await new_task(database, seed, due_at=NOW)
    await new_task(database, seed, customer_id=seed.acme)
    async with database.sessions() as session, session.begin():
        await complete_task(session, closed.id, user_id=seed.anna, at=NOW)
    async with database.sessions() as session:
        open_ = await open_tasks_for_customer(session, seed.zaneta)
        none = await open_tasks_for_customer(session, seed.olha)
        with pytest.raises(CustomerNotFound):
            await open_tasks_for_customer(session, seed.acme + 100)
    assert [t.id for t in open_] == [sooner.id, same_time.id, later.id]
    assert none == ()


async def test_agents_taking_the_same_task_at_once_one_wins(database: Database, seed: Seed) -> None:
    task = await new_task(database, seed, assigned_to_id=None, queue="support-pl")

    async def take(user_id: int) -> TaskView | TaskClosed:
        try:
            async with database.sessions() as session, session.begin():
                return await complete_task(session, task.id, user_id=user_id, at=NOW)
        except TaskClosed as closed:
            return closed

    outcomes = await asyncio.gather(*(take(u) for u in [seed.anna, seed.olena] * 3))
    won = [o for o in outcomes if isinstance(o, TaskView)]
    lost = [o for o in outcomes if isinstance(o, TaskClosed)]
    assert (len(won), len(lost)) == (1, 5)
    assert {closed.status for closed in lost} == {"done"}
    async with database.sessions() as session:
        assert await open_tasks_for_customer(session, seed.zaneta) == ()
        row = await session.get_one(Task, task.id)
    assert (row.status, row.assigned_to_id) == ("done", won[0].assigned_to_id)
