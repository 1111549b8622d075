"""The web app as a browser sees it: started on a free loopback port with the demo staff
(who share one password) and a few demo customers; pages logged in through the real form."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, expect

from contact_center.demo import load_demo_data
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app
from contact_center.web.keys import DATABASE, PASSWORDS
from tests.web.auth_helpers import PASSWORD, cheap_passwords


@dataclass
class Site:
    app: web.Application
    server: TestServer

    @property
    def origin(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def url(self, path: str) -> str:
        return self.origin + path

    async def close(self) -> None:
        await self.server.close()


async def start_site(state_dir: Path, **overrides: object) -> Site:
    settings = load_settings(
        {},
        database_url=f"sqlite+aiosqlite:///{state_dir / 'cc.sqlite3'}",
        state_dir=state_dir,
        **overrides,
    )
    app = await asyncio.to_thread(create_app, settings)  # it resolves the static folder
    app[PASSWORDS] = cheap_passwords()
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    database = app[DATABASE]
    await upgrade(database.engine)
    password_hash = await app[PASSWORDS].hash(PASSWORD)
    await load_demo_data(
        database.sessions, customers=5, days_of_history=1, password_hash=password_hash
    )
    return Site(app, server)


async def open_page(browser: Browser, locale: str = "en-GB") -> tuple[BrowserContext, Page]:
    """A fresh browser profile (its own cookies) and a page in it."""
    context = await browser.new_context(locale=locale)
    context.set_default_timeout(10_000)
    return context, await context.new_page()


async def log_in(page: Page, site: Site, username: str, next_path: str = "/") -> None:
    """Log in through the login form, as a person would."""
    await page.goto(site.url("/login?next=" + next_path))
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form.login button[type=submit]").click()
    await expect(page.locator("form.who")).to_be_visible()


async def open_desk(browser: Browser, site: Site, username: str) -> tuple[BrowserContext, Page]:
    """A logged-in page on the agent desk, its push channel connected."""
    context, page = await open_page(browser)
    await log_in(page, site, username, "/agent")
    await expect(page.locator("#push-status")).to_have_attribute("data-state", "connected")
    return context, page


def drop_connections(site: Site) -> int:
    """Cut every TCP connection the server has open, as a network drop would (the browser
    sees its websocket close abnormally, code 1006)."""
    runner = site.server.runner
    assert runner is not None
    assert runner.server is not None
    handlers = list(runner.server.connections)
    for handler in handlers:
        if handler.transport is not None:
            handler.transport.abort()
    return len(handlers)
