"""Browser tests: our real web app on a free loopback port, and Debian's Chromium driven by
Playwright (the system browser, never a downloaded one)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.site import Site, start_site

CHROMIUM = os.environ.get("CC_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """The web app (SQLite, in-memory bus) with the demo users, on 127.0.0.1 and a free port."""
    running = await start_site(tmp_path)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium; as root it needs --no-sandbox (its own sandbox refuses root)."""
    if not await asyncio.to_thread(shutil.which, CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: ./run-tests installs Debian's chromium package")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=args
        )
        try:
            yield chromium
        finally:
            await chromium.close()
