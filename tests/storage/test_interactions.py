"""Writing finished calls: exactly once per (node, linkedid), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from contact_center.calls.tracker import CallTracker, FinishedCall
from contact_center.runtime import Database, open_database
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.interactions import CALLBACK_TITLE, save_call, save_calls
from contact_center.storage.models import Interaction, InteractionEvent, Task, User
from tests.calls.test_tracker import recorded, replay


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with open_database(load_settings({}, database_url=database_url)) as db:
        await upgrade(db.engine)
        yield db


def answered_call() -> FinishedCall:
    [call] = replay(recorded("recorded_answered_pl.txt"))
    return dataclasses.replace(call, customer_id=None)


async def save(database: Database, call: FinishedCall) -> int | None:
    async with database.sessions() as session, session.begin():
        return await save_call(session, call)


async def count(database: Database, model: type[Interaction] | type[InteractionEvent]) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_call_is_written_with_its_steps(database: Database) -> None:
    call = answered_call()
    async with database.sessions() as session, session.begin():
        session.add(
            User(
                username="anowak",
                display_name="Anna Nowak",
                role="agent",
                interface="PJSIP/agent-1001",
            )
        )
    interaction_id = await save(database, call)
    assert interaction_id is not None
    async with database.sessions() as session:
        row = await session.get_one(Interaction, interaction_id)
        agent = await session.scalar(select(User).where(User.username == "anowak"))
        steps = list(
            await session.scalars(
                select(InteractionEvent)
                .where(InteractionEvent.interaction_id == interaction_id)
                .order_by(InteractionEvent.seq)
            )
        )
    assert agent is not None
    assert row.agent_id == agent.id
    assert (row.caller_name, row.queue, row.outcome) == ("Ewa Jabłońska", "support-pl", "answered")
    assert row.started_at == call.started_at
    assert [s.kind for s in steps] == [s.kind for s in call.steps]
    assert (steps[1].kind, steps[1].queue) == ("routed", "support-pl")
    assert steps[1].detail == {"rule": "language", "reason": "Preferred language pl"}
    assert (steps[2].kind, steps[2].detail) == ("queued", {"position": 1})


async def test_the_same_call_twice_is_written_once(database: Database) -> None:
    call = answered_call()
    assert await save(database, call) is not None
    assert await save(database, call) is None
    assert await count(database, Interaction) == 1
    assert await count(database, InteractionEvent) == len(call.steps)


async def test_the_same_linkedid_on_another_node_is_another_call(database: Database) -> None:
    call = answered_call()
    assert await save(database, call) is not None
    assert await save(database, dataclasses.replace(call, node="node2")) is not None
    assert await count(database, Interaction) == 2


async def test_a_customer_that_no_longer_exists_does_not_lose_the_call(database: Database) -> None:
    call = dataclasses.replace(answered_call(), customer_id=987654)
    interaction_id = await save(database, call)
    async with database.sessions() as session:
        row = await session.get_one(Interaction, interaction_id)
    assert row.customer_id is None
    assert row.caller_number == "+48122370862"


async def test_hostile_caller_text_is_stored_as_data(database: Database) -> None:
    name = "'); DROP TABLE interactions; -- <script>alert(1)</script>"
    call = dataclasses.replace(answered_call(), caller_name=name, caller_number="' OR 1=1 --")
    interaction_id = await save(database, call)
    async with database.sessions() as session:
        row = await session.get_one(Interaction, interaction_id)
    assert (row.caller_name, row.caller_number) == (name, "' OR 1=1 --")
    assert await count(database, Interaction) == 1


async def test_the_call_figures_are_written(database: Database) -> None:
    [held] = replay(recorded("recorded_hold.txt"), CallTracker("node1", wrapup={"main": 10}))
    assert held.hold_seconds
    interaction_id = await save(database, held)
    async with database.sessions() as session:
        row = await session.get_one(Interaction, interaction_id)
    assert (row.caller_e164, row.transfers, row.complete) == ("+48221000006", 0, True)
    assert (row.ring_seconds, row.hold_seconds, row.talk_seconds, row.wrapup_seconds) == (
        held.ring_seconds,
        held.hold_seconds,
        held.talk_seconds,
        10,
    )


async def test_a_call_closed_unseen_is_written_incomplete(database: Database) -> None:
    tracker = CallTracker("node1")
    events = recorded("recorded_hold.txt")
    replay(events[: len(events) // 2], tracker)
    [closed] = tracker.close_missing(set(), at=(events[-1].timestamp or 0) + 5)
    interaction_id = await save(database, closed)
    async with database.sessions() as session:
        row = await session.get_one(Interaction, interaction_id)
        steps = await session.scalars(
            select(InteractionEvent.kind)
            .where(InteractionEvent.interaction_id == interaction_id)
            .order_by(InteractionEvent.seq)
        )
        last = list(steps)[-1]
    assert (row.complete, row.talk_seconds, row.hold_seconds) == (False, None, None)
    assert last == "closed_unseen"
    # the end Asterisk reports later, if it ever does, is not written twice
    assert await save(database, closed) is None


async def test_a_batch_is_written_in_one_go_and_duplicates_are_skipped(
    database: Database,
) -> None:
    first = answered_call()
    calls = [
        dataclasses.replace(first, linkedid=f"batch.{n}", uniqueid=f"batch.{n}") for n in range(5)
    ]
    async with database.sessions() as session, session.begin():
        assert await save_calls(session, calls[:2]) != [None, None]
    async with database.sessions() as session, session.begin():
        ids = await save_calls(session, [*calls, calls[4]])
    assert ids[:2] == [None, None]  # already logged
    assert None not in ids[2:5]
    assert len(set(ids[2:5])) == 3
    assert ids[5] is None  # the same call twice in one batch
    assert await count(database, Interaction) == 5
    assert await count(database, InteractionEvent) == 5 * len(first.steps)


async def test_an_after_hours_callback_request_becomes_one_task_of_its_queue(
    database: Database,
) -> None:
    calls = replay(recorded("recorded_ring_first_and_after_hours.txt"))
    calls = [dataclasses.replace(c, customer_id=None) for c in calls]
    [asked] = [c for c in calls if c.outcome == "callback_requested"]
    withheld = dataclasses.replace(asked, linkedid="withheld-1", caller_number="", caller_e164=None)
    async with database.sessions() as session, session.begin():
        ids = await save_calls(session, [*calls, withheld])
    async with database.sessions() as session, session.begin():  # written again: no new task
        assert await save_calls(session, calls) == [None] * len(calls)
    async with database.sessions() as session:
        tasks = list(await session.scalars(select(Task)))
    interaction_id = ids[calls.index(asked)]
    assert [(t.kind, t.status, t.queue, t.phone_number, t.interaction_id) for t in tasks] == [
        ("callback", "open", asked.queue, asked.caller_e164, interaction_id)
    ]
    assert tasks[0].due_at == asked.ended_at
    assert tasks[0].title == CALLBACK_TITLE
