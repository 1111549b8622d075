"""Several web processes behind a proxy, in the split mode (a `bridge` and two `web`
processes on real PostgreSQL and Redis, the sandbox's Asterisk, a real SIP call): the
agent's pop and the supervisor's wallboard reach the pages through whichever web process
they are connected to; when that process dies (SIGKILL), both pages reconnect through the
proxy to the other one, with the same login sessions, show the call in progress again, and
get the rest of the call's news from there."""

from __future__ import annotations

import asyncio
import secrets
import signal
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from tests.browser.site import open_page
from tests.browser.test_sip_pop import AGENT, AGENT_PORT, desk, prepared
from tests.e2e.failover import FailoverProxy
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked
from tests.pg import temporary_postgres_database
from tests.web.auth_helpers import PASSWORD

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]

REDIS_URL = "redis://127.0.0.1:6379/9"
HOLD = 25.0
"""How long the caller stays on: long enough to kill a web process mid-call."""


async def metric(port: int, name: str) -> float:
    """A figure from the process's /metrics (loopback)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    line = next(x for x in text.splitlines() if x.startswith(name + " "))
    return float(line.split()[1])


async def clients(port: int, channel: str = "push") -> float:
    """The web process's websocket clients on `channel` (push or wallboard)."""
    return await metric(port, f'cc_websocket_clients{{channel="{channel}"}}')


async def until_metric(port: int, name: str, value: float) -> None:
    async with asyncio.timeout(10):
        while await metric(port, name) != value:  # noqa: ASYNC110 (another process's figure)
            await asyncio.sleep(0.1)


async def until_clients(port: int, count: float, channel: str = "push") -> None:
    await until_metric(port, f'cc_websocket_clients{{channel="{channel}"}}', count)


async def wallboard(browser: Browser, base: str, username: str) -> Page:
    _context, page = await open_page(browser)
    await page.goto(f"{base}/login?next=/wallboard")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form.login button[type=submit]").click()
    await expect(page.locator("#wallboard")).to_be_visible()
    return page


async def test_the_page_follows_the_call_across_web_processes(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path
) -> None:
    node = f"scale-{secrets.token_hex(3)}"
    port_a, port_b = free_port(), free_port()
    async with temporary_postgres_database() as database_url:
        env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, port_a)
        env["CC_REDIS_URL"] = REDIS_URL
        settings = await asyncio.to_thread(load_settings, env)
        number = await prepared(settings)
        bridge_port = free_port()
        bridge = Process(
            ["bridge"], env | {"CC_BRIDGE_HTTP_PORT": str(bridge_port)}, tmp_path / "bridge.log"
        )
        web_a = Process(["web"], env, tmp_path / "web-a.log")
        web_b = Process(["web"], env | {"CC_HTTP_PORT": str(port_b)}, tmp_path / "web-b.log")
        procs = [bridge, web_a, web_b]
        async with (
            running(procs),
            FailoverProxy([port_a, port_b]) as proxy,
            AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=1.0, talk_seconds=None),
        ):
            await wait_node_linked(port_a, node, procs)
            await wait_node_linked(port_b, node, procs)
            anna = await desk(browser, proxy.url, "anowak")
            board = await wallboard(browser, proxy.url, "mzielinska")
            await until_clients(port_a, 1)  # the proxy sent both pages to web A
            await until_clients(port_a, 1, "wallboard")
            assert await clients(port_b) == await clients(port_b, "wallboard") == 0
            card = anna.locator("#call-card")
            row = board.locator(f'#wallboard [data-interface="PJSIP/{AGENT}"]')

            await sandbox.cli(f"queue add member PJSIP/{AGENT} to support-pl")
            try:
                call = asyncio.create_task(
                    place_call(
                        sandbox, caller_number=number, caller_name="Ewa Nowak", hold_seconds=HOLD
                    )
                )
                try:
                    await expect(card).to_have_attribute("data-state", "ringing", timeout=15_000)
                    await expect(card).to_have_attribute("data-state", "connected")
                    await expect(row).to_have_attribute("data-state", "on_call")
                    await expect(row.locator(".agent-caller")).to_contain_text(number)

                    # web A dies mid-call: the page reconnects, through the proxy, to web B
                    async with anna.expect_websocket(timeout=15_000) as reconnect:
                        await web_a.stop(signal.SIGKILL)
                    socket = await reconnect.value
                    assert socket.url == f"{proxy.url.replace('http', 'ws')}/push"
                    await expect(anna.locator("#push-status")).to_have_attribute(
                        "data-state", "connected"
                    )
                    await until_clients(port_b, 1)
                    await until_clients(port_b, 1, "wallboard")  # the wallboard came too
                    await expect(row).to_have_attribute("data-state", "on_call")
                    # the call in progress is shown again (from the live state in Redis)
                    await expect(card).to_have_attribute("data-state", "connected")
                    await expect(card.locator(".caller-name")).to_have_text("Ewa Nowak")
                    await expect(card.locator(".caller-number")).to_have_text(number)
                    # the login session holds on web B too: a reload is still the desk
                    await anna.reload()
                    await expect(anna.locator("#push-status")).to_have_attribute(
                        "data-state", "connected"
                    )
                    await expect(card).to_have_attribute("data-state", "connected")
                finally:
                    result = await call
                assert result.outcome == "caller-hangup", result
                # the call's end, published by the bridge, reaches the page through web B
                await expect(card).to_have_attribute("data-state", "ended", timeout=15_000)
                # and the wallboard's figures, through web B: the agent's call of today
                await expect(row.locator('[data-figure="calls_today"]')).to_have_text(
                    "1", timeout=15_000
                )
                await expect(row).not_to_have_attribute("data-state", "on_call")
            finally:
                await sandbox.cli(f"queue remove member PJSIP/{AGENT} from support-pl")
            # the bridge's metrics saw the call: routed once over FastAGI, logged once
            await until_metric(bridge_port, f'cc_calls_logged_total{{node="{node}"}}', 1)
            assert await metric(bridge_port, "cc_routing_seconds_count") == 1
            assert proxy.served[port_b] >= 2  # the websocket and the reload, at least
            assert bridge.returncode is None
            assert web_b.returncode is None
