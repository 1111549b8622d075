"""Acceptance: a mixed batch of real SIP calls through the sandbox, and call by call our
interactions agree with Asterisk's own records, its queue_log (outcome, agent, queue, wait
within a second) and its CDRs (cdr_csv: who answered, when the call began and ended, how
long it was answered).

The batch runs at once, one queue per kind of call (the rulebook routes by dialed number):
answered with a hold; abandoned while waiting; a ring that is not answered, then another
agent answers; answered then blind-transferred to another agent; a queue timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from contact_center.ami import AmiClient, AmiEvent
from contact_center.ami import events as ev
from contact_center.calls.tracker import interface_of
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.store import save_document
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import InteractionEvent
from tests.e2e.asterisk_records import Cdr, parse_cdr_csv, parse_queue_log, queue_stay
from tests.e2e.harness import (
    Process,
    center_env,
    free_port,
    logged_calls,
    running,
    wait_node_linked,
)
from tests.tools.phones import ScriptedPhone

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]  # with a wait for the sandbox lock

QUEUE_TIMEOUT = 25
"""CC_QUEUE_TIMEOUT for the batch: longer than a ring-no-answer (15 s) and a retry."""

RULES = """
rules:
  - {name: answered, when: {dialed: ["800000001"]}, then: {queue: support-en}}
  - {name: abandoned, when: {dialed: ["800000002"]}, then: {queue: vip}}
  - {name: no-answer, when: {dialed: ["800000003"]}, then: {queue: main}}
  - {name: transferred, when: {dialed: ["800000004"]}, then: {queue: support-uk}}
  - {name: timeout, when: {dialed: ["800000005"]}, then: {queue: overflow}}
"""
CALLERS = {
    "answered": "+48221100001",
    "abandoned": "+48221100002",
    "no-answer": "+48221100003",
    "transferred": "+48221100004",
    "timeout": "+48221100005",
}


class AmiWatch:
    """Our own AMI link to the sandbox: send actions, and wait for events as they come."""

    def __init__(self, client: AmiClient, events: asyncio.Queue[AmiEvent]) -> None:
        self.client = client
        self._events = events
        self._waiters: list[tuple[Callable[[AmiEvent], bool], asyncio.Future[AmiEvent]]] = []

    def expect(self, match: Callable[[AmiEvent], bool]) -> asyncio.Future[AmiEvent]:
        future: asyncio.Future[AmiEvent] = asyncio.get_running_loop().create_future()
        self._waiters.append((match, future))
        return future

    async def run(self) -> None:
        while True:
            event = await self._events.get()
            for waiter in list(self._waiters):
                match, future = waiter
                if not future.done() and match(event):
                    future.set_result(event)
                    self._waiters.remove(waiter)


@contextlib.asynccontextmanager
async def ami_watch(sandbox: AsteriskSandbox) -> AsyncIterator[AmiWatch]:
    env = {"CC_AMI_SECRET_FILE": str(sandbox.ami_secret_file())}
    settings = await asyncio.to_thread(load_settings, env)
    events: asyncio.Queue[AmiEvent] = asyncio.Queue()
    client = AmiClient(settings, events)
    watch = AmiWatch(client, events)
    async with asyncio.TaskGroup() as tasks:
        link = tasks.create_task(client.run())
        watcher = tasks.create_task(watch.run())
        try:
            await client.wait_connected(10)
            yield watch
        finally:
            await client.close()
            await link
            watcher.cancel()


def caller_event(kind: type[ev.AmiEvent], scenario: str) -> Callable[[AmiEvent], bool]:
    number = CALLERS[scenario]
    return lambda e: isinstance(e, kind) and e.channel.caller_num == number  # type: ignore[attr-defined]


async def read_records(sandbox: AsteriskSandbox, linkedids: set[str]) -> tuple[Any, list[Cdr]]:
    """queue_log and CDRs, once Asterisk has written a CDR for each of our calls."""
    async with asyncio.timeout(10):
        while True:
            queue_log = await asyncio.to_thread(sandbox.queue_log().read_text, "utf-8")
            cdr_text = await asyncio.to_thread(sandbox.cdr_csv().read_text, "utf-8")
            cdrs = [cdr for cdr in parse_cdr_csv(cdr_text) if cdr.uniqueid in linkedids]
            if {cdr.uniqueid for cdr in cdrs} == linkedids:
                return parse_queue_log(queue_log), cdrs
            await asyncio.sleep(0.2)


async def test_interactions_agree_with_the_queue_log_and_the_cdrs(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    node = f"e2e-{secrets.token_hex(3)}"
    http_port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, http_port)
    settings = await asyncio.to_thread(load_settings, env)
    document = await asyncio.to_thread(load_yaml, RULES)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        async with database.sessions() as session, session.begin():
            await save_document(session, document)
        procs = [Process(["serve"], env, tmp_path / "serve.log")]
        async with (
            running(procs),
            ami_watch(sandbox) as ami,
            ScriptedPhone.holding(
                sandbox, "agent-1001", 5071, answer_after=1.0, hold_after=1.0, hold_seconds=1.5
            ),
            AgentPhone(sandbox, "agent-1002", 5072, answer_after=60, talk_seconds=None),
            AgentPhone(sandbox, "agent-1003", 5073, answer_after=0.5, talk_seconds=None),
            AgentPhone(sandbox, "agent-1004", 5074, answer_after=0.5, talk_seconds=None),
            AgentPhone(sandbox, "agent-1005", 5075, answer_after=0.5, talk_seconds=None),
        ):
            await wait_node_linked(http_port, node, procs)
            for queue, agent in (("support-en", "1001"), ("main", "1002"), ("support-uk", "1004")):
                await sandbox.cli(f"queue add member PJSIP/agent-{agent} to {queue}")
            await sandbox.cli(f"dialplan set global CC_QUEUE_TIMEOUT {QUEUE_TIMEOUT}")
            try:
                results = await _the_batch(sandbox, ami)
            finally:
                await sandbox.cli("dialplan set global CC_QUEUE_TIMEOUT 300")
                for queue, agent in (
                    ("support-en", "1001"),
                    ("main", "1002"),
                    ("main", "1003"),
                    ("support-uk", "1004"),
                ):
                    with contextlib.suppress(Exception):
                        await sandbox.cli(f"queue remove member PJSIP/agent-{agent} from {queue}")
            rows = await logged_calls(database.sessions, node, len(CALLERS))
            async with database.sessions() as session:
                steps = {
                    row.id: list(
                        await session.scalars(
                            select(InteractionEvent)
                            .where(InteractionEvent.interaction_id == row.id)
                            .order_by(InteractionEvent.seq)
                        )
                    )
                    for row in rows
                }

    assert results["answered"] == results["no-answer"] == "caller-hangup", results
    assert results["transferred"] == "caller-hangup", results
    assert results["abandoned"] == "abandoned", results
    calls = {row.dialed_number: row for row in rows}
    scenario = {f"80000000{n}": name for n, name in enumerate(CALLERS, start=1)}
    assert set(calls) == set(scenario)
    queue_log, cdrs = await read_records(sandbox, {row.linkedid for row in rows})

    for dialed, row in calls.items():
        name = scenario[dialed]
        stay = queue_stay(queue_log, row.linkedid)
        assert stay is not None, name
        # the queue_log, call by call
        assert (row.outcome, row.queue, row.agent_interface) == (
            stay.outcome,
            stay.queue,
            stay.agent,
        ), name
        assert row.wait_seconds == pytest.approx(stay.wait, abs=1.0), name
        assert row.transfers == stay.transfers, name
        rang = tuple(step.agent_interface for step in steps[row.id] if step.kind == "no_answer")
        assert rang == stay.rang_unanswered, name
        assert row.complete, name
        assert row.caller_e164 == CALLERS[name]

        # the CDRs of the caller's channel
        mine = [cdr for cdr in cdrs if cdr.uniqueid == row.linkedid]
        assert abs((min(cdr.start for cdr in mine) - row.started_at).total_seconds()) <= 1.0, name
        assert abs((max(cdr.end for cdr in mine) - row.ended_at).total_seconds()) <= 1.0, name
        answered = [cdr for cdr in mine if cdr.disposition == "ANSWERED"]
        connected = [step.agent_interface for step in steps[row.id] if step.kind == "connected"]
        assert [interface_of(cdr.dstchannel) for cdr in answered] == connected, name
        if answered:
            assert row.talk_seconds is not None
            assert row.hold_seconds is not None
            billed = sum(cdr.billsec for cdr in answered)
            assert billed == pytest.approx(row.talk_seconds + row.hold_seconds, abs=len(answered))
            first_answer = min(cdr.answer for cdr in answered if cdr.answer is not None)
            assert row.answered_at is not None
            assert abs((first_answer - row.answered_at).total_seconds()) <= 1.0, name
        else:
            assert row.answered_at is row.talk_seconds is None, name
        unanswered = [interface_of(cdr.dstchannel) for cdr in mine if cdr.disposition != "ANSWERED"]
        assert [agent for agent in unanswered if agent] == list(rang), name

    by_name = {scenario[dialed]: row for dialed, row in calls.items()}
    expected = {
        "answered": ("answered", "support-en", "PJSIP/agent-1001", "caller"),
        "abandoned": ("abandoned", "vip", None, "caller"),
        "no-answer": ("answered", "main", "PJSIP/agent-1003", "caller"),
        "transferred": ("answered", "support-uk", "PJSIP/agent-1004", "caller"),
        "timeout": ("timeout", "overflow", None, None),
    }
    for name, (outcome, queue, agent, hangup_by) in expected.items():
        row = by_name[name]
        assert (row.outcome, row.queue, row.agent_interface, row.hangup_by) == (
            outcome,
            queue,
            agent,
            hangup_by,
        ), name
    assert by_name["answered"].hold_seconds == pytest.approx(1.5, abs=0.3)
    assert by_name["no-answer"].wait_seconds == pytest.approx(16.5, abs=1.5)
    assert by_name["abandoned"].wait_seconds == pytest.approx(4.0, abs=0.5)
    assert by_name["timeout"].wait_seconds == pytest.approx(QUEUE_TIMEOUT, abs=1.0)
    assert by_name["transferred"].transfers == 1

    def kinds(name: str) -> list[tuple[str, str | None, dict[str, Any]]]:
        return [(s.kind, s.agent_interface, s.detail) for s in steps[by_name[name].id]]

    assert [k for k, _a, _d in kinds("answered")].count("hold") == 1
    [transfer] = [(a, d) for k, a, d in kinds("transferred") if k == "transferred"]
    assert transfer == ("PJSIP/agent-1004", {"kind": "blind", "to": "1005", "context": "agents"})
    [abandon] = [d for k, _a, d in kinds("abandoned") if k == "abandoned"]
    assert (abandon["position"], abandon["original_position"]) == (1, 1)
    [exit_] = [d for k, _a, d in kinds("timeout") if k == "queue_exit"]
    assert exit_ == {"status": "TIMEOUT"}


async def _the_batch(sandbox: AsteriskSandbox, ami: AmiWatch) -> dict[str, str]:
    """Place every call at once; steer the two that need it; the callers' own outcomes."""
    rna = ami.expect(caller_event(ev.AgentRingNoAnswer, "no-answer"))
    transfer_answered = ami.expect(caller_event(ev.AgentConnect, "transferred"))

    def call(name: str, **options: Any) -> asyncio.Task[Any]:
        dialed = f"80000000{list(CALLERS).index(name) + 1}"
        return asyncio.create_task(
            place_call(
                sandbox, caller_number=CALLERS[name], caller_name=name, dialed=dialed, **options
            )
        )

    async def another_agent_after_no_answer() -> None:
        await rna  # agent-1002 let it ring 15 s: agent-1003 takes its place
        await sandbox.cli("queue remove member PJSIP/agent-1002 from main")
        await sandbox.cli("queue add member PJSIP/agent-1003 to main")

    async def blind_transfer() -> None:
        connect = await transfer_answered
        assert isinstance(connect, ev.AgentConnect)
        assert connect.dest is not None
        await asyncio.sleep(1.5)
        await ami.client.action(
            "BlindTransfer", Channel=connect.dest.name, Context="agents", Exten="1005"
        )

    placed = {
        "timeout": call("timeout", timeout=QUEUE_TIMEOUT + 10),
        "no-answer": call("no-answer", hold_seconds=2.0),
        "answered": call("answered", hold_seconds=5.0),
        "abandoned": call("abandoned", hangup_after=4.0),
        "transferred": call("transferred", hold_seconds=6.0),
    }
    async with asyncio.timeout(QUEUE_TIMEOUT + 30):
        await asyncio.gather(another_agent_after_no_answer(), blind_transfer())
        return {name: (await task).outcome for name, task in placed.items()}
