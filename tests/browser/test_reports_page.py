"""The report page in Chromium under the strict CSP, on the demo's month of calls: both
charts are drawn by the vendored Chart.js (pixels on their canvases), a filter narrows the
report, and nothing breaks the CSP or throws."""

from __future__ import annotations

import re

from playwright.async_api import Browser, ConsoleMessage, Page, expect

from tests.browser.site import Site, log_in, open_page

PAINTED = """id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return painted;
}"""


async def drawn(page: Page) -> None:
    await page.wait_for_function("document.documentElement.dataset.chartsReady === '1'")
    for chart in ("volume-chart", "heatmap-chart"):
        assert await page.evaluate(PAINTED, chart) > 1000, chart


async def test_charts_and_filters_under_the_csp(site: Site, browser: Browser) -> None:
    _context, page = await open_page(browser)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await log_in(page, site, "mzielinska", "/reports")
    await expect(page.locator("h1")).to_have_text("Contact center report")
    await drawn(page)
    offered = await page.locator(".kpis div").first.locator("strong").text_content()
    assert offered is not None
    assert int(offered) > 0  # the demo's calls of the last seven days

    await page.locator('select[name="queue"]').select_option("vip")
    await page.locator(".report-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/reports\?.*queue=vip"))
    await expect(page.locator(".report-period")).to_contain_text("Queue: vip")
    await drawn(page)
    narrowed = await page.locator(".kpis div").first.locator("strong").text_content()
    assert narrowed is not None
    assert int(narrowed) < int(offered)
    csv = page.locator("#table-queues a.csv")
    assert "queue=vip" in (await csv.get_attribute("href") or "")
    assert problems == []
