"""A report page as PDF, printed by Chromium (driven by Playwright) with the print stylesheet.

The page is served to the browser from memory at a made-up address: the HTML given, and
``/static/...`` from the app's static folder (the stylesheet, Chart.js, reports.js); any other
request is refused, so the browser reaches nothing outside. The charts are drawn by the same
script as on screen; the PDF is printed once the script says they are drawn."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import shutil
from pathlib import Path

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Route, async_playwright

from contact_center.errors import ContactCenterError
from contact_center.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

STATIC = PROJECT_ROOT / "agent_ui" / "static"
ORIGIN = "https://report.invalid"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
RENDER_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1123, "height": 794}
"""A4 landscape at 96 dpi: the charts are drawn at the width they are printed at."""


class PdfUnavailable(ContactCenterError):
    """No PDF can be made here (no Chromium, or it failed)."""


def chromium_path() -> str | None:
    for candidate in CHROMIUM:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def _static_file(path: str) -> tuple[bytes, str] | None:
    relative = path.removeprefix("/static/")
    target = (STATIC / relative).resolve()
    if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
        return None
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return target.read_bytes(), kind


async def render_pdf(html: str) -> bytes:
    """The report page ``html`` printed to PDF (A4 landscape, backgrounds on)."""
    executable = await asyncio.to_thread(chromium_path)
    if executable is None:
        raise PdfUnavailable("Chromium is not installed")

    async def serve(route: Route) -> None:
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            await route.abort()
            return
        path = url[len(ORIGIN) :].split("?", 1)[0]
        if path == "/":
            await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            return
        found = await asyncio.to_thread(_static_file, path) if path.startswith("/static/") else None
        if found is None:
            await route.fulfill(status=404, body="")
            return
        body, kind = found
        await route.fulfill(status=200, content_type=kind, body=body)

    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=executable)
            try:
                page = await browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
                await page.route("**/*", serve)
                await page.goto(ORIGIN + "/", timeout=RENDER_TIMEOUT_MS)
                await page.wait_for_function(
                    "document.documentElement.dataset.chartsReady === '1'",
                    timeout=RENDER_TIMEOUT_MS,
                )
                await page.emulate_media(media="print")
                await page.evaluate(  # the charts follow their boxes' print size
                    "() => new Promise(done => requestAnimationFrame("
                    "() => requestAnimationFrame(done)))"
                )
                return await page.pdf(
                    format="A4", landscape=True, print_background=True, prefer_css_page_size=True
                )
            finally:
                await browser.close()
    except PlaywrightError as err:
        log.warning("cannot print the report to PDF: %s", err)
        raise PdfUnavailable(f"the browser failed: {err}") from err
