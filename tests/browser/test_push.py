"""The push channel in a real browser: a call published on the bus reaches the page of the
agent whose phone rings (every tab of theirs) and no one else's; what the caller chose as a
name is shown as text; a socket without a session or from another site is refused; after
a network drop the page reconnects and shows the call in progress again."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Dialog, Page, WebSocket, expect

from contact_center.bus import AgentCall
from contact_center.web.keys import MESSAGING, PUSH_HUB
from tests.browser.site import Site, drop_connections, open_desk, open_page
from tests.web.auth_helpers import PASSWORD

ANNA = "PJSIP/agent-1001"  # anowak
PAWEL = "PJSIP/agent-1002"  # pwisniewski
AT = dt.datetime(2026, 3, 5, 13, 7, 9, tzinfo=dt.UTC).timestamp()


def ringing(interface: str, linkedid: str, name: str, **changes: object) -> AgentCall:
    fields: dict[str, object] = {
        "agent_interface": interface,
        "state": "ringing",
        "at": AT,
        "node": "node1",
        "linkedid": linkedid,
        "uniqueid": linkedid,
        "caller_number": "+48601000001",
        "caller_name": name,
        "customer_id": 1234567,
        "candidates": (7,),
        "queue": "support-pl",
        "route_rule": "language",
        "route_reason": "Customer language pl -> support-pl",
    }
    fields.update(changes)
    return AgentCall(**fields)  # type: ignore[arg-type]


async def publish(site: Site, call: AgentCall) -> None:
    await site.app[MESSAGING].notifier.agent_call(call)


def frames_of(page: Page) -> list[str]:
    """Every frame the page's websockets receive, for asserting what never arrived."""
    frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


async def test_a_call_reaches_its_agent_in_every_tab_and_no_one_else(
    site: Site, browser: Browser
) -> None:
    anna, anna_page = await open_desk(browser, site, "anowak")
    anna_tab = await anna.new_page()
    await anna_tab.goto(site.url("/agent"))
    await expect(anna_tab.locator("#push-status")).to_have_attribute("data-state", "connected")
    pawel, pawel_page = await open_desk(browser, site, "pwisniewski")
    pawel_frames = frames_of(pawel_page)
    await pawel_page.reload()
    await expect(pawel_page.locator("#push-status")).to_have_attribute("data-state", "connected")

    await publish(site, ringing(ANNA, "1700000000.11", "Jan Kowalski"))
    for page in (anna_page, anna_tab):
        card = page.locator("#call-card")
        await expect(card).to_have_attribute("data-state", "ringing")
        await expect(card.locator(".caller-name")).to_have_text("Jan Kowalski")
        await expect(card.locator(".caller-number")).to_have_text("+48601000001")

    await publish(site, ringing(PAWEL, "1700000000.22", "Ewa Nowicka"))
    await expect(pawel_page.locator("#call-card .caller-name")).to_have_text("Ewa Nowicka")
    assert pawel_frames, "Paweł's page received nothing at all"
    assert not [f for f in pawel_frames if "Jan Kowalski" in f or "1700000000.11" in f]
    await expect(anna_page.locator("#call-card .caller-name")).to_have_text("Jan Kowalski")

    await publish(site, ringing(ANNA, "1700000000.11", "Jan Kowalski", state="ended"))
    await expect(anna_tab.locator("#call-card")).to_have_attribute("data-state", "ended")
    await anna.close()
    await pawel.close()


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>'])
async def test_a_hostile_caller_name_is_plain_text(site: Site, browser: Browser, name: str) -> None:
    context, page = await open_desk(browser, site, "anowak")
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    images_before = await page.locator("img").count()
    await publish(site, ringing(ANNA, "1700000000.33", name))
    card = page.locator("#call-card")
    await expect(card.locator(".caller-name")).to_have_text(name)
    assert await card.locator("img, script").count() == 0
    assert await page.locator("img").count() == images_before
    # a later message proves the page went on working after the hostile one was shown
    await publish(site, ringing(ANNA, "1700000000.33", name, state="connected"))
    await expect(card).to_have_attribute("data-state", "connected")
    assert dialogs == []
    await context.close()


@pytest.mark.parametrize("name", ["Zażółć Gęślą Jaźń", "Олена Коваленко"])
async def test_names_arrive_intact(site: Site, browser: Browser, name: str) -> None:
    context, page = await open_desk(browser, site, "anowak")
    await publish(site, ringing(ANNA, "1700000000.44", name))
    await expect(page.locator("#call-card .caller-name")).to_have_text(name)
    await context.close()


@pytest.fixture
async def other_site() -> AsyncIterator[TestServer]:
    """Another site on the same host (another port): cookies of ours go along to our
    websocket from its pages (ports do not separate sites), so only Origin tells them apart."""
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><title>elsewhere</title>", content_type="text/html"
        )

    app.router.add_get("/", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


OPEN_SOCKET = """async (url) => await new Promise((resolve) => {
  const socket = new WebSocket(url);
  socket.onmessage = () => { socket.close(); resolve("open"); };
  socket.onclose = (event) => resolve("closed " + event.code);
})"""


async def test_a_socket_without_session_or_from_another_site_is_refused(
    site: Site, browser: Browser, other_site: TestServer
) -> None:
    push_url = site.url("/push").replace("http://", "ws://")
    anonymous, anonymous_page = await open_page(browser)
    await anonymous_page.goto(site.url("/login"))
    assert await anonymous_page.evaluate(OPEN_SOCKET, push_url) == "closed 1006"

    context, page = await open_desk(browser, site, "anowak")
    assert await page.evaluate(OPEN_SOCKET, push_url) == "open"  # the same check can pass
    elsewhere = await context.new_page()
    await elsewhere.goto(str(other_site.make_url("/")))
    assert await elsewhere.evaluate(OPEN_SOCKET, push_url) == "closed 1006"
    assert {c.identity.username for c in site.app[PUSH_HUB].clients()} == {"anowak"}
    await anonymous.close()
    await context.close()


async def test_after_a_network_drop_the_page_reconnects_and_shows_the_call(
    site: Site, browser: Browser
) -> None:
    context, page = await open_desk(browser, site, "anowak")
    await publish(site, ringing(ANNA, "1700000000.55", "Marta Lis"))
    card = page.locator("#call-card")
    await expect(card).to_have_attribute("data-state", "ringing")

    # answered while the page is cut off: only the live state knows, nothing is pushed
    await site.app[MESSAGING].live.put_agent_call(
        ringing(ANNA, "1700000000.55", "Marta Lis", state="connected")
    )
    async with page.expect_websocket() as reconnect:
        assert drop_connections(site) >= 1
    socket = await reconnect.value
    assert socket.url.endswith("/push")
    await expect(page.locator("#push-status")).to_have_attribute("data-state", "connected")
    await expect(card).to_have_attribute("data-state", "connected")
    await expect(card.locator(".caller-name")).to_have_text("Marta Lis")
    await context.close()


async def test_logging_out_closes_the_other_tabs_sockets(site: Site, browser: Browser) -> None:
    context, page = await open_desk(browser, site, "anowak")
    other_tab = await context.new_page()
    await other_tab.goto(site.url("/agent"))
    await expect(other_tab.locator("#push-status")).to_have_attribute("data-state", "connected")
    await page.locator("form.who button").click()
    await expect(page.locator("#username")).to_be_visible()
    await expect(other_tab.locator("#push-status")).to_have_attribute("data-state", "ended")
    for _ in range(50):
        if not site.app[PUSH_HUB].clients():
            break
        await asyncio.sleep(0.1)
    assert site.app[PUSH_HUB].clients() == []
    await context.close()


async def test_the_desk_runs_under_a_strict_content_security_policy(
    site: Site, browser: Browser
) -> None:
    context, page = await open_page(browser)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    response = await page.goto(site.url("/login?next=/agent"))
    assert response is not None
    await page.locator("#username").fill("anowak")
    await page.locator("#password").fill(PASSWORD)
    async with page.expect_response(site.url("/agent")) as desk:
        await page.locator("form.login button[type=submit]").click()
    policy = (await desk.value).headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    await expect(page.locator("#push-status")).to_have_attribute("data-state", "connected")
    assert not [v for v in violations if "Content Security Policy" in v], violations
    await context.close()
