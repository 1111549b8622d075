"""The first call end to end: a real SIP call through the real Asterisk sandbox is routed by
our bridge over FastAGI, followed over AMI and logged as one interaction, every field checked.

It runs with SQLite and with PostgreSQL, in the embedded mode (`serve`, one process) and in
the split mode (`bridge` + `web` processes sharing live state through the running Redis).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from contact_center.bus.redis import NODES
from contact_center.demo import load_demo_data
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, Interaction, PhoneNumber, User
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(180)]

REDIS_URL = "redis://127.0.0.1:6379/9"
AGENT = "agent-1001"
AGENT_PORT = 5071
ANSWER_AFTER = 1.0
TALK = 2.0


async def prepared(settings: Settings) -> tuple[Customer, str, User]:
    """Migrate, load the demo, and pick a Polish-speaking customer and the Polish agent."""
    async with open_database(settings) as database:
        await upgrade(database.engine)
        await load_demo_data(database.sessions, customers=40)
        async with database.sessions() as session:
            customer, number = (
                await session.execute(
                    select(Customer, PhoneNumber.e164)
                    .join(PhoneNumber)
                    .where(
                        Customer.language == "pl",
                        Customer.tier == "standard",
                        Customer.overdue_balance == 0,
                    )
                    .order_by(Customer.id)
                    .limit(1)
                )
            ).one()
            agent = await session.scalar(select(User).where(User.interface == f"PJSIP/{AGENT}"))
    assert agent is not None
    return customer, number, agent


async def logged_calls(settings: Settings, node: str, count: int) -> list[Interaction]:
    """The node's interactions once `count` are there (15 s at most), oldest first."""
    rows: list[Interaction] = []
    async with open_database(settings) as database:
        try:
            async with asyncio.timeout(15):
                while len(rows) < count:
                    await asyncio.sleep(0.2)
                    async with database.sessions() as session:
                        query = select(Interaction).where(Interaction.node == node)
                        rows = list(await session.scalars(query.order_by(Interaction.id)))
        except TimeoutError:
            raise AssertionError(f"{len(rows)} of {count} calls logged for {node}") from None
    return rows


def processes(mode: str, env: dict[str, str], log_dir: Path) -> list[Process]:
    if mode == "serve":
        return [Process(["serve"], env, log_dir / "serve.log")]
    split = dict(env, CC_REDIS_URL=REDIS_URL)
    return [
        Process(["bridge"], split, log_dir / "bridge.log"),
        Process(["web"], split, log_dir / "web.log"),
    ]


@pytest.mark.parametrize("mode", ["serve", "split"])
async def test_first_call_is_routed_and_logged(
    mode: str, database_url: str, sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    node = f"e2e-{secrets.token_hex(3)}"
    http_port = free_port()
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, http_port)
    settings = await asyncio.to_thread(load_settings, env)
    customer, number, agent = await prepared(settings)
    procs = processes(mode, env, tmp_path)

    async with (
        running(procs),
        AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=ANSWER_AFTER, talk_seconds=None),
    ):
        await wait_node_linked(http_port, node, procs)
        await sandbox.cli(f"queue add member PJSIP/{AGENT} to support-pl")
        try:
            result = await place_call(
                sandbox, caller_number=number, caller_name=customer.name, hold_seconds=TALK
            )
        finally:
            await sandbox.cli(f"queue remove member PJSIP/{AGENT} from support-pl")
        assert result.outcome == "caller-hangup", result
        [row] = await logged_calls(settings, node, 1)

    if mode == "split":
        redis = Redis.from_url(REDIS_URL)
        try:
            assert await redis.hexists(NODES, node)  # the bridge's live state, seen by web
            await redis.hdel(NODES, node)
        finally:
            await redis.aclose()

    assert row.node == node
    assert row.linkedid == row.uniqueid
    assert row.linkedid.startswith("contact-center-")  # Asterisk's systemname prefix
    assert (row.channel, row.direction) == ("voice", "inbound")
    assert row.customer_id == customer.id
    assert (row.caller_number, row.caller_name) == (number, customer.name)
    assert row.dialed_number == "800100200"
    assert row.queue == "support-pl"
    assert (row.agent_id, row.agent_interface) == (agent.id, f"PJSIP/{AGENT}")
    assert (row.route_rule, row.route_reason) == ("polish", "Preferred language pl")
    assert (row.outcome, row.hangup_by) == ("answered", "caller")
    assert row.answered_at is not None
    assert row.ended_at is not None
    now = dt.datetime.now(dt.UTC)
    assert now - dt.timedelta(minutes=2) < row.started_at < row.answered_at < row.ended_at < now
    assert row.wait_seconds == pytest.approx(ANSWER_AFTER, abs=0.5)
    assert row.talk_seconds == pytest.approx(TALK, abs=0.5)
    assert row.wait_seconds == pytest.approx(
        (row.answered_at - row.started_at).total_seconds(), abs=0.5
    )
    assert row.talk_seconds == pytest.approx(
        (row.ended_at - row.answered_at).total_seconds(), abs=0.01
    )
    assert (row.disposition, row.notes) == (None, "")


async def test_bridge_reconnects_after_asterisk_restarts(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    """Asterisk restarts under a running bridge: it links again by itself and logs the next
    call; the outage is logged once, not once per retry."""
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
    customer, number, _agent = await prepared(settings)
    procs = processes("serve", env, tmp_path)

    async with (
        running(procs),
        AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=0.5, talk_seconds=None) as phone,
    ):
        await wait_node_linked(http_port, node, procs)
        for attempt in range(2):
            if attempt:
                await sandbox.restart()
                await phone.stop()  # the phone registers again with the new Asterisk
                await phone.start()
                await wait_node_linked(http_port, node, procs)
            await sandbox.cli(f"queue add member PJSIP/{AGENT} to support-pl")
            result = await place_call(
                sandbox, caller_number=number, caller_name=customer.name, hold_seconds=1.0
            )
            assert result.outcome == "caller-hangup", result
        first, second = await logged_calls(settings, node, 2)
        await sandbox.cli(f"queue remove member PJSIP/{AGENT} from support-pl")

    assert first.linkedid != second.linkedid
    for row in (first, second):
        assert (row.outcome, row.queue, row.customer_id) == ("answered", "support-pl", customer.id)
    log = await procs[0].output()
    assert log.count("AMI unavailable") == 1, log
    assert log.count("AMI back") == 1, log
