"""Routing with real SIP calls through the sandbox: each rule path ends in the queue (or
the agent, or the after-hours path) it should, and the interaction says why."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from contact_center.demo import load_demo_data
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.store import save_document
from contact_center.runtime import Database, open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, InteractionEvent, PhoneNumber, User
from tests.e2e.harness import (
    Process,
    center_env,
    free_port,
    logged_calls,
    running,
    wait_node_linked,
)

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(180)]

HOSTILE_RULE_NAME = 'Collections ^ 2, ${SHELL(id)} "x" (y); |z'


@dataclass
class Center:
    node: str
    database: Database
    sandbox: AsteriskSandbox

    async def customer(self, **where: Any) -> tuple[Customer, str]:
        """A demo customer matching `where` with a number of their own."""
        async with self.database.sessions() as session:
            shared = (
                select(PhoneNumber.e164)
                .group_by(PhoneNumber.e164)
                .having(func.count(PhoneNumber.id) > 1)
            )
            query = (
                select(Customer, PhoneNumber.e164)
                .join(PhoneNumber)
                .where(PhoneNumber.e164.not_in(shared))
            )
            for name, value in where.items():
                query = query.where(getattr(Customer, name) == value)
            customer, number = (await session.execute(query.order_by(Customer.id))).first()  # type: ignore[misc]
        return customer, number

    async def agent(self, interface: str) -> User:
        async with self.database.sessions() as session:
            user = await session.scalar(select(User).where(User.interface == interface))
        assert user is not None
        return user

    async def calls(self, count: int) -> list[Any]:
        return await logged_calls(self.database.sessions, self.node, count)

    async def steps(self, interaction_id: int) -> list[tuple[str, str | None, str | None]]:
        async with self.database.sessions() as session:
            rows = await session.scalars(
                select(InteractionEvent)
                .where(InteractionEvent.interaction_id == interaction_id)
                .order_by(InteractionEvent.seq)
            )
            return [(e.kind, e.queue, e.agent_interface) for e in rows]

    def member(self, interface: str, queue: str) -> contextlib.AbstractAsyncContextManager[None]:
        return _membership(self.sandbox, interface, queue)


@contextlib.asynccontextmanager
async def _membership(sandbox: AsteriskSandbox, interface: str, queue: str) -> AsyncIterator[None]:
    await sandbox.cli(f"queue add member {interface} to {queue}")
    try:
        yield
    finally:
        await sandbox.cli(f"queue remove member {interface} from {queue}")


@contextlib.asynccontextmanager
async def center(
    sandbox: AsteriskSandbox, tmp_path: Path, rules: str, **rows: Any
) -> AsyncIterator[Center]:
    """Demo data, `rules` as the rulebook, and a running contact center (`serve`)."""
    node = f"e2e-{secrets.token_hex(3)}"
    http_port = free_port()
    env = center_env(
        sandbox.ami_secret_file(),
        tmp_path,
        node,
        f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        http_port,
    )
    settings = await asyncio.to_thread(load_settings, env)
    document = await asyncio.to_thread(load_yaml, rules)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        await load_demo_data(database.sessions, customers=40)
        async with database.sessions() as session, session.begin():
            await save_document(session, document)
        procs = [Process(["serve"], env, tmp_path / "serve.log")]
        async with running(procs):
            await wait_node_linked(http_port, node, procs)
            yield Center(node, database, sandbox)


async def test_vip_lands_in_the_vip_queue_ahead_of_standard_callers(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    rules = """
rules:
  - {name: vip, when: {tier: vip}, then: {queue: vip, priority: 10, reason: VIP}}
  - {name: second-line, when: {dialed: ["800200300"]}, then: {queue: vip}}
"""
    async with center(sandbox, tmp_path, rules) as cc:
        vip, vip_number = await cc.customer(tier="vip")
        standard, standard_number = await cc.customer(tier="standard")
        async with AgentPhone(sandbox, "agent-1001", 5071, answer_after=0.5, talk_seconds=None):
            # two standard callers wait in the vip queue (no agent yet), then the VIP calls
            waiting = [
                asyncio.create_task(
                    place_call(
                        sandbox,
                        caller_number=standard_number,
                        caller_name=standard.name,
                        dialed="800200300",
                        hangup_after=8.0,
                    )
                )
                for _ in range(2)
            ]
            await asyncio.sleep(1.5)
            vip_call = asyncio.create_task(
                # the VIP talks until the standard callers have given up
                place_call(sandbox, caller_number=vip_number, caller_name=vip.name, hold_seconds=6)
            )
            await asyncio.sleep(1.5)
            async with cc.member("PJSIP/agent-1001", "vip"):
                assert (await vip_call).outcome == "caller-hangup"
                results = await asyncio.gather(*waiting)
            assert [r.outcome for r in results] == ["abandoned", "abandoned"]
        calls = await cc.calls(3)
        vip_row = {row.customer_id: row for row in calls}[vip.id]
        queued = [s for s in await cc.steps(vip_row.id) if s[0] == "queued"]
        async with cc.database.sessions() as session:
            position = await session.scalar(
                select(InteractionEvent.detail).where(
                    InteractionEvent.interaction_id == vip_row.id,
                    InteractionEvent.kind == "queued",
                )
            )

    assert (vip_row.queue, vip_row.outcome, vip_row.route_rule) == ("vip", "answered", "vip")
    assert vip_row.agent_interface == "PJSIP/agent-1001"
    assert queued == [("queued", "vip", None)]
    standard_rows = [row for row in calls if row.customer_id == standard.id]
    assert [row.outcome for row in standard_rows] == ["abandoned", "abandoned"]
    # the VIP joined behind nobody although two callers were already waiting
    assert position["position"] == 1


async def test_key_account_rings_the_manager_first_then_the_queue(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    rules = """
rules:
  - name: key-account
    when: {account_manager: true}
    then: {queue: vip, preferred_agent: account_manager, preferred_seconds: 5,
           reason: "Key account of {manager}"}
"""
    async with center(sandbox, tmp_path, rules) as cc:
        customer, number = await cc.customer(tier="vip")
        async with cc.database.sessions() as session, session.begin():
            managed = await session.get_one(Customer, customer.id)
            manager = await session.scalar(select(User).where(User.interface == "PJSIP/agent-1001"))
            assert manager is not None
            managed.account_manager_id = manager.id
        # the manager's phone rings but is not picked up; agent-1002 in the queue answers
        async with (
            AgentPhone(sandbox, "agent-1001", 5071, answer_after=30, talk_seconds=None),
            AgentPhone(sandbox, "agent-1002", 5072, answer_after=0.5, talk_seconds=None),
            cc.member("PJSIP/agent-1002", "vip"),
        ):
            missed = await place_call(
                sandbox, caller_number=number, caller_name=customer.name, hold_seconds=1
            )
        # now the manager answers
        async with AgentPhone(sandbox, "agent-1001", 5071, answer_after=0.5, talk_seconds=None):
            direct = await place_call(
                sandbox, caller_number=number, caller_name=customer.name, hold_seconds=1
            )
        first, second = await cc.calls(2)
        first_steps = await cc.steps(first.id)
        second_steps = await cc.steps(second.id)

    assert missed.outcome == direct.outcome == "caller-hangup"
    assert (first.route_rule, first.route_reason) == ("key-account", "Key account of Anna Nowak")
    assert (first.outcome, first.queue, first.agent_interface) == (
        "answered",
        "vip",
        "PJSIP/agent-1002",
    )
    kinds = [(kind, agent) for kind, _queue, agent in first_steps]
    assert kinds[:5] == [
        ("arrived", None),
        ("routed", None),
        ("ringing", "PJSIP/agent-1001"),
        ("no_answer", "PJSIP/agent-1001"),
        ("queued", None),
    ]
    assert ("connected", "PJSIP/agent-1002") in kinds
    assert first.wait_seconds == pytest.approx(5.5, abs=1.0)

    assert (second.outcome, second.agent_interface) == ("answered", "PJSIP/agent-1001")
    assert second.queue == "vip"  # where it was headed, for the reports
    assert [kind for kind, _q, _a in second_steps] == [
        "arrived",
        "routed",
        "ringing",
        "connected",
        "hangup",
    ]
    assert second.wait_seconds == pytest.approx(0.5, abs=0.5)


@pytest.mark.parametrize(
    ("caller", "rule", "reason"),
    [
        ("+48221234999", "default", "Unknown caller"),
        ("anonymous", "default", "Number withheld"),
    ],
)
async def test_unknown_and_withheld_callers_reach_the_main_queue(
    sandbox: AsteriskSandbox, tmp_path: Path, caller: str, rule: str, reason: str
) -> None:
    async with (
        center(sandbox, tmp_path, "rules: []") as cc,
        AgentPhone(sandbox, "agent-1003", 5073, answer_after=0.5, talk_seconds=None),
        cc.member("PJSIP/agent-1003", "main"),
    ):
        result = await place_call(sandbox, caller_number=caller, caller_name="", hold_seconds=1)
        [row] = await cc.calls(1)
    assert result.outcome == "caller-hangup"
    assert (row.queue, row.route_rule, row.route_reason) == ("main", rule, reason)
    assert (row.outcome, row.customer_id) == ("answered", None)


@pytest.mark.parametrize(
    ("path", "outcome"),
    [
        ("callback", "callback_requested"),
        ("message", "after_hours_message"),
        ("voicemail", "voicemail"),
    ],
)
async def test_after_hours_takes_the_queues_after_hours_path(
    sandbox: AsteriskSandbox, tmp_path: Path, path: str, outcome: str
) -> None:
    rules = f"""
queues:
  support-pl: {{hours: {{sun: "00:00-00:01"}}, after_hours: {path}}}
rules:
  - {{name: polish, when: {{language: pl}}, then: {{queue: support-pl, reason: Polish}}}}
"""
    async with center(sandbox, tmp_path, rules) as cc:
        customer, number = await cc.customer(language="pl", tier="standard", overdue_balance=0)
        result = await place_call(
            sandbox, caller_number=number, caller_name=customer.name, hold_seconds=5
        )
        [row] = await cc.calls(1)
        steps = await cc.steps(row.id)
    assert result.answered  # Asterisk answers to play its message
    assert (row.queue, row.outcome, row.agent_interface) == ("support-pl", outcome, None)
    assert row.route_reason == f"Polish; support-pl is closed: {path}"
    assert [kind for kind, _q, _a in steps] == ["arrived", "routed", "hangup"]


async def test_overflow_when_too_many_wait(sandbox: AsteriskSandbox, tmp_path: Path) -> None:
    rules = """
rules:
  - name: polish
    when: {language: pl}
    then: {queue: support-pl, overflow: {queue: overflow, waiting: 1}, reason: Polish}
"""
    async with center(sandbox, tmp_path, rules) as cc:
        customer, number = await cc.customer(language="pl", tier="standard", overdue_balance=0)
        async with (
            AgentPhone(sandbox, "agent-1004", 5074, answer_after=0.5, talk_seconds=None),
            cc.member("PJSIP/agent-1004", "overflow"),
        ):
            waiting = asyncio.create_task(
                place_call(sandbox, caller_number=number, caller_name="A", hangup_after=6.0)
            )
            await asyncio.sleep(2.0)  # the first caller waits in support-pl (no agent there)
            second = await place_call(
                sandbox, caller_number=number, caller_name=customer.name, hold_seconds=1
            )
            assert (await waiting).outcome == "abandoned"
        first_row, second_row = sorted(await cc.calls(2), key=lambda row: row.started_at)
    assert second.outcome == "caller-hangup"
    assert (first_row.queue, first_row.outcome) == ("support-pl", "abandoned")
    assert (second_row.queue, second_row.outcome) == ("overflow", "answered")
    assert second_row.agent_interface == "PJSIP/agent-1004"
    assert "overflow from support-pl (1 waiting" in (second_row.route_reason or "")


async def test_overdue_customer_is_routed_to_collections(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    # a rule's name is free text: it crosses FastAGI and the dialplan's CUT() intact
    rules = f"""
rules:
  - {{name: '{HOSTILE_RULE_NAME}', when: {{overdue: true}}, then: {{queue: collections,
     reason: "Overdue balance {{balance}}"}}}}
"""
    async with center(sandbox, tmp_path, rules) as cc:
        customer, number = await cc.customer(tier="standard")
        async with cc.database.sessions() as session, session.begin():
            (await session.get_one(Customer, customer.id)).overdue_balance = Decimal("99.90")
        async with (
            AgentPhone(sandbox, "agent-1005", 5075, answer_after=0.5, talk_seconds=None),
            cc.member("PJSIP/agent-1005", "collections"),
        ):
            await place_call(sandbox, caller_number=number, caller_name="X", hold_seconds=1)
        [row] = await cc.calls(1)
    assert (row.queue, row.route_rule, row.route_reason, row.outcome) == (
        "collections",
        HOSTILE_RULE_NAME,
        "Overdue balance 99.90",
        "answered",
    )
