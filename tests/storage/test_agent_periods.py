"""Agents' logged-in and pause stretches: the pure follower over published agent states, and
the writer on SQLite and PostgreSQL (a stretch left open by a stopped bridge is closed)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.calls.agents import AgentState, QueueState
from contact_center.settings import load_settings
from contact_center.storage.agent_periods import AgentPeriods, AgentPeriodWriter, PeriodChange
from contact_center.storage.db import create_engine, session_factory, upgrade
from contact_center.storage.models import AgentPeriod, User

PHONE = "PJSIP/agent-1001"
T0 = 1_790_000_000.0


def state(kind: str, since: float, reason: str = "", queues: int = 1) -> AgentState:
    members = tuple(
        QueueState(f"q{n}", kind, since, reason, paused=kind == "paused") for n in range(queues)
    )
    return AgentState(PHONE, "node1", kind, since, reason, members)


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(T0 + seconds, dt.UTC)


def test_follow_a_day() -> None:
    periods = AgentPeriods()
    assert periods.follow(state("available", T0)) == [
        PeriodChange("node1", PHONE, "logged_in", True, at(0))
    ]
    assert periods.follow(state("on_call", T0 + 10)) == []
    assert periods.follow(state("paused", T0 + 60, "Lunch")) == [
        PeriodChange("node1", PHONE, "paused", True, at(60), "Lunch")
    ]
    # another reason: one pause ends, the next begins
    assert periods.follow(state("paused", T0 + 90, "Break")) == [
        PeriodChange("node1", PHONE, "paused", False, at(90)),
        PeriodChange("node1", PHONE, "paused", True, at(90), "Break"),
    ]
    # logged out while paused: both end
    assert periods.follow(AgentState(PHONE, "node1", "logged_out", T0 + 120)) == [
        PeriodChange("node1", PHONE, "paused", False, at(120)),
        PeriodChange("node1", PHONE, "logged_in", False, at(120)),
    ]
    assert periods.follow(AgentState(PHONE, "node1", "logged_out", T0 + 130)) == []


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = await asyncio.to_thread(create_engine, load_settings({}, database_url=database_url))
    try:
        await upgrade(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[object, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                AgentPeriod.kind,
                AgentPeriod.reason,
                AgentPeriod.user_id,
                AgentPeriod.started_at,
                AgentPeriod.ended_at,
            ).order_by(AgentPeriod.id)
        )
        return [tuple(row) for row in rows]


async def test_writer_keeps_the_stretches(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        anna = User(username="anna", display_name="Anna", role="agent", interface=PHONE)
        session.add(anna)
    writer = AgentPeriodWriter(sessions)
    task = asyncio.create_task(writer.run())
    try:
        for item in (
            state("available", T0),
            state("paused", T0 + 60, "Lunch"),
            state("available", T0 + 1860),
        ):
            writer.follow(item)
        await asyncio.wait_for(writer.written(), 10)
        assert await stored(sessions) == [
            ("logged_in", "", anna.id, at(0), None),
            ("paused", "Lunch", anna.id, at(60), at(1860)),
        ]
        # a bridge that stopped and started again sees the phone logged in anew: the stretch
        # left open is closed where the new one starts
        restarted = AgentPeriodWriter(sessions)
        restarted_task = asyncio.create_task(restarted.run())
        try:
            restarted.follow(state("available", T0 + 4000))
            await asyncio.wait_for(restarted.written(), 10)
        finally:
            restarted_task.cancel()
        rows = await stored(sessions)
        assert rows[0] == ("logged_in", "", anna.id, at(0), at(4000))
        assert rows[2] == ("logged_in", "", anna.id, at(4000), None)
    finally:
        task.cancel()
