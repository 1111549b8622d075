"""The wallboard page in Chromium under the strict CSP, without Asterisk: the live state is
written as a bridge would, and the page must follow it (pushed), count the longest wait on
by itself, draw today's chart with the vendored Chart.js, and go full screen in TV mode,
with no script error and no CSP violation."""

from __future__ import annotations

import asyncio
import time

from playwright.async_api import Browser, ConsoleMessage, expect

from contact_center.bus import QueueSnapshot
from contact_center.web.keys import MESSAGING
from tests.browser.site import Site, log_in, open_page


async def test_the_board_follows_the_live_state_and_counts_on_in_tv_mode(
    site: Site, browser: Browser
) -> None:
    _context, page = await open_page(browser)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await log_in(page, site, "mzielinska", "/wallboard")
    await expect(page.locator("#wallboard")).to_be_visible()
    await expect(page.locator("#wb-chart canvas")).to_have_count(1)
    await page.locator('a[href="/wallboard?tv=1"]').click()
    await expect(page.locator("#wallboard.tv")).to_be_visible()
    await expect(page.locator("#wb-agents")).to_be_hidden()  # the wall shows the queues

    tile = page.locator("#queue-support-pl")
    before = await tile.get_attribute("data-level")  # today's demo calls may alert already
    messaging = site.app[MESSAGING]
    waited = time.time() - 75  # over the default amber threshold (60 s), under red (120 s)
    await messaging.notifier.queues("node1", {"support-pl": QueueSnapshot(2, waited)})
    await expect(tile.locator('dd[data-figure="waiting"]')).to_have_text("2")
    longest = tile.locator('dd[data-figure="longest_wait"]')
    # past the default amber threshold of the longest wait (60 s)
    await expect(tile.locator('.fig.alert dd[data-figure="longest_wait"]')).to_have_count(1)
    assert await tile.get_attribute("data-level") in ("amber", "red")
    first = await longest.text_content()
    assert first is not None
    assert first.startswith("1:1")  # 1:15 or so
    await asyncio.sleep(2.5)
    assert await longest.text_content() != first  # counted on by the page, no frame needed
    await messaging.notifier.queues("node1", {"support-pl": QueueSnapshot(0, None)})
    await expect(tile.locator('dd[data-figure="waiting"]')).to_have_text("0")
    await expect(tile.locator('.fig.alert dd[data-figure="longest_wait"]')).to_have_count(0)
    assert await tile.get_attribute("data-level") == before
    assert problems == []
