"""Exactly once, whatever happens: real SIP traffic through the sandbox while the AMI link is
cut, the bridge is killed with SIGKILL, Asterisk restarts or the database is unreachable.

After each, the interactions are checked call by call against Asterisk's own queue_log: one
interaction for every call that entered a queue (none lost, none doubled), with the outcome,
queue, agent and wait Asterisk recorded. A call whose end the bridge could not see is marked
incomplete, and only such calls may lack what Asterisk knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import secrets
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from contact_center.demo import load_demo_data
from contact_center.runtime import Database, open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, CallResult, place_call
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Interaction
from tests.e2e.faults import CuttableProxy
from tests.e2e.harness import Process, center_env, free_port, wait_node_linked
from tests.pg import temporary_postgres_database

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]

AGENTS = (("agent-1001", 5071), ("agent-1002", 5072))
QUEUE = "main"


@dataclasses.dataclass(frozen=True)
class QueueCall:
    """One caller's visit to a queue, as Asterisk's queue_log tells it."""

    callid: str
    queue: str
    caller: str
    outcome: str | None  # None: the queue_log has no end for it (Asterisk went down)
    agent: str | None
    wait: float | None


def queue_calls(text: str, callers: set[str]) -> dict[str, QueueCall]:
    """The queue_log's calls from `callers`, by callid (the caller channel's uniqueid)."""
    entered: dict[str, tuple[str, str]] = {}
    ends: dict[str, tuple[str, str | None, float | None]] = {}
    for line in text.splitlines():
        row = line.split("|")
        if len(row) < 5:
            continue
        callid, queue, agent, event, data = row[1], row[2], row[3], row[4], row[5:]
        if event == "ENTERQUEUE" and len(data) >= 2 and data[1] in callers:
            entered[callid] = (queue, data[1])
        elif event == "CONNECT" and data:
            ends[callid] = ("answered", agent, float(data[0]))
        elif event == "ABANDON" and len(data) >= 3:
            ends.setdefault(callid, ("abandoned", None, float(data[2])))
        elif event == "EXITWITHTIMEOUT" and len(data) >= 3:
            ends.setdefault(callid, ("timeout", None, float(data[2])))
        elif event == "EXITEMPTY" and len(data) >= 3:
            ends.setdefault(callid, ("left_empty", None, float(data[2])))
    calls = {}
    for callid, (queue, caller) in entered.items():
        outcome, agent, wait = ends.get(callid, (None, None, None))
        calls[callid] = QueueCall(callid, queue, caller, outcome, agent, wait)
    return calls


@dataclasses.dataclass
class FaultCenter:
    sandbox: AsteriskSandbox
    database: Database
    node: str
    env: dict[str, str]
    log: Path
    http_port: int
    process: Process | None = None

    async def start(self) -> None:
        self.process = Process(["serve"], self.env, self.log)
        await self.process.start()
        await wait_node_linked(self.http_port, self.node, [self.process])

    async def kill(self) -> None:
        assert self.process is not None
        await self.process.stop(signal.SIGKILL)

    async def rows(self) -> list[Interaction]:
        async with self.database.sessions() as session:
            query = select(Interaction).where(Interaction.node == self.node)
            return list(await session.scalars(query.order_by(Interaction.id)))

    async def traffic(
        self, count: int, spacing: float, during: Callable[[], Awaitable[None]]
    ) -> tuple[set[str], list[CallResult]]:
        """`count` calls from fresh numbers, `spacing` seconds apart, with `during` run
        alongside; some callers give up early (abandoned), the others talk 2 s."""
        numbers = [f"+4420{random.randrange(10**7, 10**8)}" for _ in range(count)]

        async def one(n: int, number: str) -> CallResult:
            await asyncio.sleep(n * spacing)
            give_up = 1.2 if n % 4 == 3 else None
            return await place_call(
                self.sandbox,
                caller_number=number,
                caller_name=f"Fault {n}",
                hold_seconds=2.0,
                hangup_after=give_up,
                timeout=30,
            )

        calls = asyncio.gather(*(one(n, number) for n, number in enumerate(numbers)))
        await during()
        results = await calls
        return set(numbers), list(results)

    async def check(self, callers: set[str], within: float = 40.0) -> list[Interaction]:
        """Every queue_log call from `callers` is one interaction that agrees with it;
        returns those interactions."""
        text = ""
        expected: dict[str, QueueCall] = {}
        rows: list[Interaction] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while True:
                    text = await asyncio.to_thread(self.sandbox.queue_log().read_text)
                    expected = queue_calls(text, callers)
                    rows = [r for r in await self.rows() if r.linkedid in expected]
                    if expected and len({r.linkedid for r in rows}) >= len(expected):
                        break
                    await asyncio.sleep(0.5)
        by_call: dict[str, list[Interaction]] = {}
        for row in rows:
            assert row.linkedid is not None
            by_call.setdefault(row.linkedid, []).append(row)
        missing = sorted(set(expected) - set(by_call))
        assert not missing, f"calls in queue_log but not logged: {missing}\n{text}"
        doubled = {k: len(v) for k, v in by_call.items() if len(v) > 1}
        assert not doubled, f"calls logged more than once: {doubled}"
        for callid, asterisk in expected.items():
            [row] = by_call[callid]
            seen = _summary(row)
            if not row.complete:
                # what the bridge did see must still agree with Asterisk
                if row.outcome == "answered":
                    assert asterisk.outcome == "answered", (seen, asterisk)
                continue
            assert asterisk.outcome is not None, (seen, asterisk)
            assert (row.outcome, row.queue) == (asterisk.outcome, asterisk.queue), (
                seen,
                asterisk,
            )
            if asterisk.outcome == "answered":
                assert row.agent_interface == asterisk.agent, (seen, asterisk)
            assert row.wait_seconds is not None, (seen, asterisk)
            assert asterisk.wait is not None, (seen, asterisk)
            assert abs(row.wait_seconds - asterisk.wait) <= 1.0, (seen, asterisk)
        return [row for rows in by_call.values() for row in rows]


def after(rows: list[Interaction], moment: float) -> list[Interaction]:
    """The calls that started after `moment` (epoch seconds)."""
    return [row for row in rows if row.started_at.timestamp() > moment]


def _summary(row: Interaction) -> dict[str, Any]:
    names = ("linkedid", "outcome", "queue", "agent_interface", "wait_seconds", "complete")
    return {name: getattr(row, name) for name in names}


@contextlib.asynccontextmanager
async def fault_center(
    sandbox: AsteriskSandbox,
    tmp_path: Path,
    *,
    database_url: str | None = None,
    bridge_database_url: str | None = None,
    ami_port: int | None = None,
) -> AsyncIterator[FaultCenter]:
    """Demo data, the default rulebook (unknown callers go to `main`), two agents in `main`
    answering after 1 s, and a running contact center."""
    node = f"fault-{secrets.token_hex(3)}"
    http_port = free_port()
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(
        sandbox.ami_secret_file(), tmp_path, node, bridge_database_url or url, http_port
    )
    if ami_port is not None:
        env["CC_AMI_PORT"] = str(ami_port)
    settings = await asyncio.to_thread(load_settings, {}, database_url=url)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        await load_demo_data(database.sessions, customers=20)
        center = FaultCenter(sandbox, database, node, env, tmp_path / "serve.log", http_port)
        async with contextlib.AsyncExitStack() as stack:
            for endpoint, port in AGENTS:
                phone = AgentPhone(sandbox, endpoint, port, answer_after=1.0, talk_seconds=None)
                await stack.enter_async_context(phone)
                await sandbox.cli(f"queue add member {phone.interface} to {QUEUE}")
                stack.push_async_callback(
                    sandbox.cli, f"queue remove member {phone.interface} from {QUEUE}"
                )
            await center.start()
            try:
                yield center
            finally:
                if center.process is not None:
                    await center.process.stop()


async def test_bridge_killed_with_sigkill_mid_traffic(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    back = 0.0
    async with fault_center(sandbox, tmp_path) as cc:

        async def kill_and_restart() -> None:
            nonlocal back
            await asyncio.sleep(2.0)
            await cc.kill()
            await asyncio.sleep(0.5)
            await cc.start()
            back = time.time()

        callers, _ = await cc.traffic(14, 0.6, kill_and_restart)
        rows = await cc.check(callers)
        log = await asyncio.to_thread(cc.log.read_text)
    assert len(rows) == 14  # every call reached the queue, bridge or not, and is logged once
    assert "journal replayed" in log
    assert any(not row.complete for row in rows)
    later = after(rows, back + 1.0)
    assert len(later) >= 2
    assert all(row.complete for row in later), [_summary(row) for row in later]


async def test_ami_link_cut_several_times(sandbox: AsteriskSandbox, tmp_path: Path) -> None:
    last_cut = 0.0
    async with (
        CuttableProxy("127.0.0.1", 5038) as proxy,
        fault_center(sandbox, tmp_path, ami_port=proxy.port) as cc,
    ):

        async def cut_three_times() -> None:
            nonlocal last_cut
            for _ in range(3):
                await asyncio.sleep(1.5)
                proxy.cut()
            last_cut = time.time()

        callers, _ = await cc.traffic(14, 0.6, cut_three_times)
        rows = await cc.check(callers)
        log = await asyncio.to_thread(cc.log.read_text)
    assert proxy.cuts == 3
    assert len(rows) == 14
    assert log.count("AMI back at") == 3
    later = after(rows, last_cut + 1.5)
    assert len(later) >= 2
    assert all(row.complete for row in later), [_summary(row) for row in later]


async def test_asterisk_restarts_mid_traffic(sandbox: AsteriskSandbox, tmp_path: Path) -> None:
    async with fault_center(sandbox, tmp_path) as cc:

        async def restart() -> None:
            await asyncio.sleep(2.5)
            await sandbox.restart()
            for endpoint, _ in AGENTS:  # queue members added by CLI do not survive it
                await sandbox.cli(f"queue add member PJSIP/{endpoint} to {QUEUE}")

        callers, _ = await cc.traffic(4, 0.5, restart)
        assert cc.process is not None
        await wait_node_linked(cc.http_port, cc.node, [cc.process])
        later, _ = await cc.traffic(3, 0.5, _nothing)
        rows = await cc.check(callers | later)
    # Asterisk stopping hangs every call up and says so over AMI before it goes: the calls
    # cut by the restart end as Asterisk logged them (checked above), none is left open
    assert len([row for row in rows if row.caller_number in callers]) >= 1
    fresh = [row for row in rows if row.caller_number in later]
    assert len(fresh) == 3
    assert all(row.complete for row in fresh), [_summary(row) for row in fresh]


async def test_database_unreachable_for_30_seconds(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    async with (
        temporary_postgres_database() as url,
        CuttableProxy("127.0.0.1", 5432) as proxy,
    ):
        through_proxy = url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
        async with fault_center(
            sandbox, tmp_path, database_url=url, bridge_database_url=through_proxy
        ) as cc:

            async def outage() -> None:
                await asyncio.sleep(1.0)
                proxy.refuse()
                await asyncio.sleep(30.0)
                proxy.accept()

            callers, _ = await cc.traffic(6, 1.0, outage)
            rows = await cc.check(callers, within=60)
            log = await asyncio.to_thread(cc.log.read_text)
    assert len(rows) == 6
    assert all(row.complete for row in rows), [_summary(row) for row in rows]
    assert "cannot log the calls yet" in log


async def _nothing() -> None:
    return None
