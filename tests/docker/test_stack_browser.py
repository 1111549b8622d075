"""An agent's page through the stack's proxy: a call on either node pops on it (ringing,
connected, ended) and shows on the supervisor's wallboard; the web container the page is
connected to is stopped mid-session, the page reconnects through HAProxy to the other web
process, and the next call pops there."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.site import open_page
from tests.docker.stack import AGENT, Stack

pytestmark = pytest.mark.timeout(600)


async def logged_in(browser: Browser, base: str, username: str, password: str, path: str) -> Page:
    _context, page = await open_page(browser)
    await page.goto(f"{base}/login?next={path}")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.locator("form.login button[type=submit]").click()
    return page


async def desk(browser: Browser, base: str, username: str, password: str) -> Page:
    page = await logged_in(browser, base, username, password, "/agent")
    await expect(page.locator("#push-status")).to_have_attribute("data-state", "connected")
    return page


async def wallboard(browser: Browser, base: str, username: str, password: str) -> Page:
    page = await logged_in(browser, base, username, password, "/wallboard")
    await expect(page.locator("#wallboard")).to_be_visible()
    return page


async def pops(stack: Stack, page: Page, node: str, number: str, board: Page | None = None) -> None:
    """A call on `node` rings the agent's phone there and pops on the page, then ends; the
    wallboard, if given, shows the agent on that call."""
    card = page.locator("#call-card")
    call = asyncio.create_task(
        asyncio.to_thread(stack.place_calls, node, [number], ring_ms=20000, hold_ms=3000)
    )
    try:
        await expect(card).to_have_attribute("data-state", "ringing", timeout=20_000)
        await expect(card.locator(".caller-number")).to_contain_text(number[-6:])
        await expect(card).to_have_attribute("data-state", "connected", timeout=10_000)
        if board is not None:
            row = board.locator(f'.wb-agent[data-interface="PJSIP/{AGENT}"]', has_text=number)
            await expect(row).to_have_attribute("data-state", "on_call")
    finally:
        outcome = await call
    assert outcome == ["caller-hangup"], outcome
    await expect(card).to_have_attribute("data-state", "ended", timeout=15_000)


async def push_clients(stack: Stack, web: str) -> int:
    text = await asyncio.to_thread(stack.metrics_inside, web, 8080)
    line = next(
        x for x in text.splitlines() if x.startswith('cc_websocket_clients{channel="push"}')
    )
    return int(float(line.split()[1]))


async def test_pops_from_both_nodes_and_a_stopped_web_container(
    stack: Stack, browser: Browser
) -> None:
    for node in ("node1", "node2"):
        await asyncio.to_thread(stack.start_phone, node)
        await asyncio.to_thread(stack.asterisk_cli, node, f"queue add member PJSIP/{AGENT} to main")
    base = f"http://127.0.0.1:{stack.http_port}"
    anna = await desk(browser, base, "anowak", stack.demo_password)
    board = await wallboard(browser, base, "mzielinska", stack.demo_password)

    await pops(stack, anna, "node1", "999300001", board)
    await pops(stack, anna, "node2", "999300002", board)

    # the web container the page's push channel is on stops: the page reconnects through
    # the proxy to the other one, and the next call pops there
    counts = {web: await push_clients(stack, web) for web in ("web1", "web2")}
    assert sorted(counts.values()) == [0, 1], counts
    serving = max(counts, key=counts.__getitem__)
    other = "web2" if serving == "web1" else "web1"
    async with anna.expect_websocket(timeout=20_000) as reconnect:
        await asyncio.to_thread(stack.compose, "stop", serving)
    socket = await reconnect.value
    assert socket.url == base.replace("http", "ws") + "/push"
    await expect(anna.locator("#push-status")).to_have_attribute("data-state", "connected")
    assert await push_clients(stack, other) == 1
    try:
        await pops(stack, anna, "node1", "999300003", board)  # the board came along too
    except BaseException:
        print(await asyncio.to_thread(stack.logs, "bridge-node1", "web1", "web2"))
        raise
    await anna.reload()  # the login session holds on the other process
    await expect(anna.locator("#push-status")).to_have_attribute("data-state", "connected")
    await asyncio.to_thread(stack.compose, "start", serving)
