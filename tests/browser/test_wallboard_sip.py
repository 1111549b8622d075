"""The wallboard with real SIP calls through the Asterisk sandbox, read in Chromium: in split
mode (a bridge process and a web process, Redis), the queue's figures equal those computed
from Asterisk's queue_log for the same calls; a supervisor's Listen makes their own SIPp
phone ring and join the agent's call as a spy (ChanSpy in Asterisk's channels), an agent's
attempt is refused; after the bridge is killed and restarted while callers wait, the board is
right again (waiting callers, the agent's state changed meanwhile) within 2 s of the bridge
being back."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from redis.asyncio import Redis
from sqlalchemy import select, update

from contact_center.demo import load_demo_data
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, PhoneNumber, User
from tests.browser.site import open_page
from tests.e2e.asterisk_records import parse_queue_log
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked
from tests.web.auth_helpers import CSRF_INPUT, PASSWORD, cheap_passwords

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(420)]

AGENT, AGENT_PORT = "agent-1001", 5071  # anowak
BOSS_PHONE, BOSS_PORT = "agent-1006", 5076  # taken from smurphy, given to mzielinska
QUEUE = "support-pl"
REDIS_URL = "redis://127.0.0.1:6379/12"
"""A database of its own, emptied first: the board sums every node's queues, and other
tests' nodes must not add their callers to ours."""
SHORT_ABANDON = 5.0


@dataclass
class Center:
    base: str
    http_port: int
    node: str
    bridge: Process
    bridge_port: int
    web: Process
    number: str


@contextlib.asynccontextmanager
async def center(sandbox: AsteriskSandbox, tmp_path: Path) -> AsyncIterator[Center]:
    node = f"wb-{secrets.token_hex(3)}"
    http_port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, url, http_port)
    env |= {"CC_REDIS_URL": REDIS_URL}
    settings = await asyncio.to_thread(load_settings, env)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        password_hash = await cheap_passwords().hash(PASSWORD)
        await load_demo_data(
            database.sessions, customers=40, days_of_history=0, password_hash=password_hash
        )
        async with database.sessions() as session, session.begin():
            # the sixth SIPp phone becomes the supervisor's own (its demo agent has none)
            await session.execute(
                update(User).where(User.interface == f"PJSIP/{BOSS_PHONE}").values(interface=None)
            )
            await session.execute(
                update(User)
                .where(User.username == "mzielinska")
                .values(interface=f"PJSIP/{BOSS_PHONE}")
            )
            number = await session.scalar(
                select(PhoneNumber.e164)
                .join(Customer)
                .where(Customer.language == "pl", Customer.tier == "standard")
                .where(Customer.overdue_balance == 0)
                .order_by(Customer.id)
                .limit(1)
            )
    assert number is not None
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    bridge_port = free_port()
    bridge_env = env | {"CC_BRIDGE_HTTP_PORT": str(bridge_port)}
    bridge = Process(["bridge"], bridge_env, tmp_path / "bridge.log")
    web = Process(["web"], env, tmp_path / "web.log")
    async with running([bridge, web]):
        await wait_node_linked(http_port, node, [bridge, web])
        base = f"http://127.0.0.1:{http_port}"
        yield Center(base, http_port, node, bridge, bridge_port, web, number)


async def bridge_back(port: int, within: float = 30.0) -> float:
    """When the bridge's own readiness (its AMI link included) first answers 200."""
    async with aiohttp.ClientSession() as http, asyncio.timeout(within):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/health/ready") as response:
                    if response.status == 200:
                        return time.monotonic()
            await asyncio.sleep(0.05)


async def wallboard(browser: Browser, base: str) -> Page:
    _context, page = await open_page(browser)
    await page.goto(f"{base}/login?next=/wallboard")
    await page.locator("#username").fill("mzielinska")
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form.login button[type=submit]").click()
    await expect(page.locator("#wallboard")).to_be_visible()
    return page


def figure(tile: Locator, name: str) -> Locator:
    return tile.locator(f'dd[data-figure="{name}"]')


def seconds(text: str) -> float:
    minutes, _, secs = text.partition(":")
    return int(minutes) * 60 + int(secs)


@dataclass(frozen=True)
class QueueLogFigures:
    offered: int
    answered: int
    abandoned: int
    within_20: int
    answer_waits: tuple[int, ...]
    talk: tuple[int, ...]


def queue_log_figures(text: str, queue: str, since: float) -> QueueLogFigures:
    """What Asterisk's queue_log says of `queue` since `since`: callers entered (offered),
    connected (answered, with their waits), abandoned after SHORT_ABANDON seconds or more."""
    entries = [e for e in parse_queue_log(text) if e.at >= int(since) and e.queue == queue]
    entered = {e.callid for e in entries if e.event == "ENTERQUEUE"}
    connects = [e for e in entries if e.event == "CONNECT" and e.callid in entered]
    abandons = [e for e in entries if e.event == "ABANDON" and e.callid in entered]
    completes = [e for e in entries if e.event in {"COMPLETECALLER", "COMPLETEAGENT"}]
    waits = tuple(int(e.data[0]) for e in connects)
    return QueueLogFigures(
        offered=len(entered),
        answered=len(connects),
        abandoned=sum(int(e.data[2]) >= SHORT_ABANDON for e in abandons),
        within_20=sum(w <= 20 for w in waits),
        answer_waits=waits,
        talk=tuple(int(e.data[1]) for e in completes),
    )


async def csrf_of(page: Page) -> str:
    found = CSRF_INPUT.search(await page.content())
    assert found is not None
    return found.group(1)


async def test_the_board_equals_the_queue_log_and_listen_joins_as_a_spy(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path
) -> None:
    started = time.time()
    async with (
        center(sandbox, tmp_path) as cc,
        AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=1.0, talk_seconds=None),
        AgentPhone(sandbox, BOSS_PHONE, BOSS_PORT, answer_after=0.5, talk_seconds=None) as boss,
    ):
        page = await wallboard(browser, cc.base)
        tile = page.locator(f"#queue-{QUEUE}")
        row = page.locator(f'.wb-agent[data-interface="PJSIP/{AGENT}"]')
        await sandbox.cli(f"queue add member PJSIP/{AGENT} to {QUEUE}")
        await sandbox.cli(f"queue pause member PJSIP/{AGENT} queue {QUEUE} reason Lunch")
        try:
            await expect(figure(tile, "paused")).to_have_text("1")
            await expect(tile.locator('[data-reason="Lunch"]')).to_have_text("Lunch: 1")
            # two callers wait (the only agent is paused) and hang up: abandoned
            waiting = [
                asyncio.create_task(
                    place_call(sandbox, caller_number=cc.number, caller_name=name, hangup_after=7.0)
                )
                for name in ("Czekający Jeden", "Czekający Dwa")
            ]
            await expect(figure(tile, "waiting")).to_have_text("2", timeout=10_000)
            assert await figure(tile, "longest_wait").get_attribute("data-since")
            for result in await asyncio.gather(*waiting):
                assert result.outcome == "abandoned", result
            await expect(figure(tile, "waiting")).to_have_text("0")
            await sandbox.cli(f"queue unpause member PJSIP/{AGENT} queue {QUEUE}")
            await expect(figure(tile, "available")).to_have_text("1")

            # answered; the last one long enough for the supervisor to listen in
            for hold in (2.0, 2.0):
                result = await place_call(
                    sandbox, caller_number=cc.number, caller_name="Odebrany", hold_seconds=hold
                )
                assert result.outcome == "caller-hangup", result
            call = asyncio.create_task(
                place_call(
                    sandbox, caller_number=cc.number, caller_name="Podsłuchany", hold_seconds=14
                )
            )
            await expect(row).to_have_attribute("data-state", "on_call", timeout=15_000)
            await expect(row.locator(".agent-caller")).to_contain_text("Podsłuchany")
            await row.locator(
                'button[hx-post="/api/wallboard/listen"]'
            ).click()  # (she reads Polish)
            await expect(page.locator("#wb-action-result")).to_have_attribute("data-ok", "1")
            spy = ""
            for _ in range(50):
                spy = await sandbox.cli("core show channels concise")
                if re.search(rf"^PJSIP/{BOSS_PHONE}-.*ChanSpy!PJSIP/{AGENT}-", spy, re.M):
                    break
                await asyncio.sleep(0.2)
            assert re.search(rf"^PJSIP/{BOSS_PHONE}-.*ChanSpy!PJSIP/{AGENT}-", spy, re.M), spy
            assert await boss.answered_calls() == 1

            # an agent may not: the page is refused, and so is the action
            _ctx, agent_page = await open_page(browser)
            await agent_page.goto(f"{cc.base}/login?next=/agent")
            await agent_page.locator("#username").fill("anowak")
            await agent_page.locator("#password").fill(PASSWORD)
            await agent_page.locator("form.login button[type=submit]").click()
            await expect(agent_page.locator("form.who")).to_be_visible()
            token = await csrf_of(agent_page)
            response = await agent_page.request.post(
                f"{cc.base}/api/wallboard/listen",
                data={"user_id": 1},
                headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
            )
            assert response.status == 403
            assert (await agent_page.goto(f"{cc.base}/wallboard")).status == 403  # type: ignore[union-attr]

            assert (await call).outcome == "caller-hangup"
        finally:
            await sandbox.cli(f"queue remove member PJSIP/{AGENT} from {QUEUE}")

        # today's figures on the board, pushed once the calls are logged, against queue_log
        await expect(figure(tile, "offered")).to_have_text("5", timeout=10_000)
        text = await asyncio.to_thread(sandbox.queue_log().read_text)
        log = queue_log_figures(text, QUEUE, started)
        assert log.offered == 5
        assert await figure(tile, "offered").text_content() == str(log.offered)
        assert await figure(tile, "answered").text_content() == str(log.answered)
        assert await figure(tile, "abandoned").text_content() == str(log.abandoned)
        counted = log.offered  # no short abandons here
        rate = round(100 * log.abandoned / counted)
        assert await figure(tile, "abandon_rate").text_content() == f"{rate}%"
        level = round(100 * log.within_20 / counted)
        assert await figure(tile, "service_level").text_content() == f"{level}%"
        asa = seconds(await figure(tile, "asa").text_content() or "")
        assert abs(asa - sum(log.answer_waits) / len(log.answer_waits)) <= 1.0
        aht = seconds(await figure(tile, "aht").text_content() or "")
        assert abs(aht - sum(log.talk) / len(log.talk)) <= 1.5
        await expect(row).to_have_count(0)  # logged out of the queue: off the board


async def board_right(page: Page, waiting: str, reason: str) -> None:
    tile = page.locator(f"#queue-{QUEUE}")
    await expect(figure(tile, "waiting")).to_have_text(waiting, timeout=60_000)
    await expect(tile.locator(f'[data-reason="{reason}"]')).to_have_count(1, timeout=60_000)


async def test_a_restarted_bridge_puts_the_board_right_within_two_seconds(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path
) -> None:
    async with center(sandbox, tmp_path) as cc:
        page = await wallboard(browser, cc.base)
        tile = page.locator(f"#queue-{QUEUE}")
        await sandbox.cli(f"queue add member PJSIP/{AGENT} to {QUEUE}")
        await sandbox.cli(f"queue pause member PJSIP/{AGENT} queue {QUEUE} reason Lunch")
        calls = [
            asyncio.create_task(
                place_call(sandbox, caller_number=cc.number, caller_name=f"C{n}", hangup_after=h)
            )
            for n, h in enumerate((40.0, 40.0, 14.0))
        ]
        try:
            await board_right(page, "3", "Lunch")
            await cc.bridge.stop(signal.SIGKILL)
            # meanwhile, in Asterisk: one caller leaves, the agent's pause reason changes
            await sandbox.cli(f"queue pause member PJSIP/{AGENT} queue {QUEUE} reason Training")
            await calls[2]
            await asyncio.sleep(1.0)
            assert await figure(tile, "waiting").text_content() == "3"  # nobody said otherwise
            await cc.bridge.start()
            back = await bridge_back(cc.bridge_port)
            tile_now = page.locator(f"#queue-{QUEUE}")
            await expect(figure(tile_now, "waiting")).to_have_text("2", timeout=2_000)
            await expect(tile_now.locator('[data-reason="Training"]')).to_have_count(
                1, timeout=max(1, int((back + 2.0 - time.monotonic()) * 1000))
            )
            assert time.monotonic() - back <= 2.0
        finally:
            await sandbox.cli(f"queue remove member PJSIP/{AGENT} from {QUEUE}")
            await asyncio.gather(*calls, return_exceptions=True)
