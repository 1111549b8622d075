"""Pause history for real: with the sandbox, an agent phone joins a queue, pauses with a
reason and resumes, then leaves (Asterisk's CLI, as any other tool would); the bridge
keeps the logged-in and paused stretches (agent_periods), and the report's agent time has
the pause by its reason, within the logged-in time."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from contact_center.analytics.agent_time import agent_time
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import AgentPeriod, User
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]

PHONE = "PJSIP/agent-1001"
QUEUE = "support-en"
PAUSE_SECONDS = 3.0


async def periods_when(sessions: object, count: int, closed: int) -> list[AgentPeriod]:
    """The stretches once there are ``count``, ``closed`` of them ended."""
    rows: list[AgentPeriod] = []
    async with asyncio.timeout(15):
        while True:
            async with sessions() as session:  # type: ignore[operator]
                rows = list(await session.scalars(select(AgentPeriod).order_by(AgentPeriod.id)))
            if len(rows) == count and sum(r.ended_at is not None for r in rows) == closed:
                return rows
            await asyncio.sleep(0.2)


async def test_the_bridge_keeps_pauses_for_the_reports(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    node = f"e2e-{secrets.token_hex(3)}"
    http_port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, http_port)
    settings = await asyncio.to_thread(load_settings, env)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        async with database.sessions() as session, session.begin():
            agent = User(username="anna", display_name="Anna", role="agent", interface=PHONE)
            session.add(agent)
        began = dt.datetime.now(dt.UTC)
        procs = [Process(["serve"], env, tmp_path / "serve.log")]
        async with (
            running(procs),
            AgentPhone(sandbox, "agent-1001", 5071, answer_after=60, talk_seconds=None),
        ):
            await wait_node_linked(http_port, node, procs)
            try:
                await sandbox.cli(f"queue add member {PHONE} to {QUEUE}")
                await periods_when(database.sessions, 1, 0)
                await sandbox.cli(f"queue pause member {PHONE} queue {QUEUE} reason Lunch")
                await periods_when(database.sessions, 2, 0)
                await asyncio.sleep(PAUSE_SECONDS)
                await sandbox.cli(f"queue unpause member {PHONE} queue {QUEUE}")
                await periods_when(database.sessions, 2, 1)
            finally:
                await sandbox.cli(f"queue remove member {PHONE} from {QUEUE}")
            rows = await periods_when(database.sessions, 2, 2)
        ended = dt.datetime.now(dt.UTC)
        async with database.sessions() as session:
            times = await agent_time(session, began, ended)

    logged_in, paused = rows
    assert (logged_in.kind, logged_in.agent_interface, logged_in.user_id) == (
        "logged_in",
        PHONE,
        agent.id,
    )
    assert (paused.kind, paused.reason, paused.user_id) == ("paused", "Lunch", agent.id)
    assert paused.ended_at is not None
    assert logged_in.ended_at is not None
    assert logged_in.started_at <= paused.started_at < paused.ended_at <= logged_in.ended_at
    pause = (paused.ended_at - paused.started_at).total_seconds()
    assert pause == pytest.approx(PAUSE_SECONDS, abs=1.5)
    [(reason, seconds)] = times[agent.id].paused_by_reason
    assert (reason, seconds) == ("Lunch", pytest.approx(pause, abs=0.01))
    assert times[agent.id].logged_in_seconds >= pause
