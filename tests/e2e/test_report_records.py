"""Acceptance: after a batch of real SIP calls through the sandbox, the report for that
period agrees with the figures derived from Asterisk's own queue_log: calls offered to each
queue (ENTERQUEUE), answered (CONNECT), abandoned (ABANDON; short abandons by its wait),
let go by the queue (EXITWITHTIMEOUT / EXITEMPTY), answered within the service level and the
average speed of answer (CONNECT's hold time), transfers.

The batch, at once: two calls answered in support-en (one agent: the second waits for the
first), one abandoned after 7 s and one after 1 s (a short abandon) in vip (nobody there),
one the queue lets go after its timeout in overflow."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import pytest

from contact_center.analytics.metrics import (
    DEFAULT_SERVICE_LEVEL_SECONDS,
    SHORT_ABANDON_SECONDS,
    queue_figures,
)
from contact_center.analytics.reports import Period, build_report
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.store import save_document
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from tests.e2e.asterisk_records import QueueLogEntry, parse_queue_log
from tests.e2e.harness import (
    Process,
    center_env,
    free_port,
    logged_calls,
    running,
    wait_node_linked,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]

QUEUE_TIMEOUT = 8
RULES = """
rules:
  - {name: answered, when: {dialed: ["800000011"]}, then: {queue: support-en}}
  - {name: abandoned, when: {dialed: ["800000012"]}, then: {queue: vip}}
  - {name: timeout, when: {dialed: ["800000013"]}, then: {queue: overflow}}
"""
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("+48221200001", "800000011", {"hold_seconds": 3.0}),
    ("+48221200002", "800000011", {"hold_seconds": 2.0}),
    ("+48221200003", "800000012", {"hangup_after": 7.0}),
    ("+48221200004", "800000012", {"hangup_after": 1.0}),
    ("+48221200005", "800000013", {"timeout": QUEUE_TIMEOUT + 10}),
]


@dataclasses.dataclass
class FromQueueLog:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    within_service_level: int = 0
    answer_waits: list[int] = dataclasses.field(default_factory=list)
    transfers: int = 0


def figures_from_queue_log(
    entries: list[QueueLogEntry], callids: set[str]
) -> dict[str, FromQueueLog]:
    """Each queue's figures as Asterisk's queue_log tells them, by our definitions."""
    queues: dict[str, FromQueueLog] = {}
    for entry in entries:
        if entry.callid not in callids:
            continue
        figures = queues.setdefault(entry.queue, FromQueueLog())
        if entry.event == "ENTERQUEUE":
            figures.offered += 1
        elif entry.event == "CONNECT":
            figures.answered += 1
            wait = int(entry.data[0])
            figures.answer_waits.append(wait)
            figures.within_service_level += wait <= DEFAULT_SERVICE_LEVEL_SECONDS
        elif entry.event == "ABANDON":
            if int(entry.data[2]) < SHORT_ABANDON_SECONDS:
                figures.short_abandoned += 1
            else:
                figures.abandoned += 1
        elif entry.event in {"EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"}:
            figures.exited += 1
        elif entry.event in {"BLINDTRANSFER", "ATTENDEDTRANSFER"}:
            figures.transfers += 1
    return queues


async def read_queue_log(sandbox: AsteriskSandbox, callids: set[str]) -> list[QueueLogEntry]:
    """The queue_log once every call's stay in its queue has ended in it."""
    ends = {"CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"}
    async with asyncio.timeout(10):
        while True:
            text = await asyncio.to_thread(sandbox.queue_log().read_text, "utf-8")
            entries = parse_queue_log(text)
            ended = {e.callid for e in entries if e.callid in callids and e.event in ends}
            if ended == callids:
                return entries
            await asyncio.sleep(0.2)


async def test_the_report_agrees_with_the_queue_log(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    node = f"e2e-{secrets.token_hex(3)}"
    http_port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, http_port)
    settings = await asyncio.to_thread(load_settings, env)
    document = await asyncio.to_thread(load_yaml, RULES)
    began = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        async with database.sessions() as session, session.begin():
            await save_document(session, document)
        procs = [Process(["serve"], env, tmp_path / "serve.log")]
        async with (
            running(procs),
            AgentPhone(sandbox, "agent-1001", 5071, answer_after=0.5, talk_seconds=None),
        ):
            await wait_node_linked(http_port, node, procs)
            await sandbox.cli("queue add member PJSIP/agent-1001 to support-en")
            await sandbox.cli(f"dialplan set global CC_QUEUE_TIMEOUT {QUEUE_TIMEOUT}")
            try:
                async with asyncio.timeout(QUEUE_TIMEOUT + 40):
                    results = await asyncio.gather(
                        *(
                            place_call(
                                sandbox,
                                caller_number=number,
                                caller_name="report",
                                dialed=dialed,
                                **options,
                            )
                            for number, dialed, options in CALLS
                        )
                    )
            finally:
                await sandbox.cli("dialplan set global CC_QUEUE_TIMEOUT 300")
                await sandbox.cli("queue remove member PJSIP/agent-1001 from support-en")
            rows = await logged_calls(database.sessions, node, len(CALLS))
            ended = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
            period = Period(began.date(), ended.date(), "UTC", began, ended)
            report = await build_report(database.sessions, period)
            async with database.sessions() as session:
                today = {q.queue: q.figures for q in await queue_figures(session, began, ended)}

    assert [result.outcome for result in results][2:4] == ["abandoned", "abandoned"]
    callids = {row.linkedid for row in rows}
    from_log = figures_from_queue_log(await read_queue_log(sandbox, callids), callids)
    assert set(from_log) == {"support-en", "vip", "overflow"}
    reported = {q.queue: q.figures for q in report.queues}
    assert set(reported) == set(from_log)
    for queue, expected in from_log.items():
        mine = reported[queue]
        assert (
            mine.offered,
            mine.answered,
            mine.abandoned,
            mine.short_abandoned,
            mine.exited,
            mine.within_service_level,
            mine.transfers,
        ) == (
            expected.offered,
            expected.answered,
            expected.abandoned,
            expected.short_abandoned,
            expected.exited,
            expected.within_service_level,
            expected.transfers,
        ), queue
        if expected.answer_waits:  # Asterisk counts whole seconds
            asa = sum(expected.answer_waits) / len(expected.answer_waits)
            assert mine.asa == pytest.approx(asa, abs=1.0), queue
        assert today[queue] == mine, queue  # what the wallboard reads for today
    assert (reported["support-en"].answered, reported["vip"].abandoned) == (2, 1)
    assert (reported["vip"].short_abandoned, reported["overflow"].exited) == (1, 1)
    assert report.totals.offered == len(CALLS)
