"""The whole way from SIP to the page: a real call through the Asterisk sandbox rings the
agent's SIPp phone, and the agent's page shows the caller before the phone is answered,
then the call connected and ended; names chosen by the caller (Polish, Ukrainian, HTML)
arrive intact and as text; another agent's page gets nothing."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page, expect
from sqlalchemy import select

from contact_center.demo import load_demo_data
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, PhoneNumber
from tests.browser.site import open_page
from tests.browser.test_push import frames_of
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked
from tests.web.auth_helpers import PASSWORD, cheap_passwords

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]

AGENT = "agent-1001"  # anowak, Polish
AGENT_PORT = 5071
RINGS_FOR = 4.0
NAMES = ["Zażółć Gęślą Jaźń", "Олена Коваленко", "<img src=x onerror=alert(1)>"]
QUOTED = '"><script>alert(1)</script>'
"""Sent correctly quoted in the SIP From header (`"\\"><script>..."`). It used to reach the page
as `\\\\\\"><script>...` (found by this test): Asterisk C-escapes the name in AMI and PJSIP
keeps the SIP quoted-pair; the AMI events and the tracker undo both now."""


async def prepared(settings: Settings) -> str:
    """Migrate, load the demo (every demo user with the test password) and return the
    number of a Polish customer, whom the rules send to support-pl."""
    async with open_database(settings) as database:
        await upgrade(database.engine)
        password_hash = await cheap_passwords().hash(PASSWORD)
        await load_demo_data(database.sessions, customers=40, password_hash=password_hash)
        async with database.sessions() as session:
            number = await session.scalar(
                select(PhoneNumber.e164)
                .join(Customer)
                .where(
                    Customer.language == "pl",
                    Customer.tier == "standard",
                    Customer.overdue_balance == 0,
                )
                .order_by(Customer.id)
                .limit(1)
            )
    assert number is not None
    return number


async def desk(browser: Browser, base: str, username: str) -> Page:
    _context, page = await open_page(browser)
    await page.goto(f"{base}/login?next=/agent")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form.login button[type=submit]").click()
    await expect(page.locator("#push-status")).to_have_attribute("data-state", "connected")
    return page


async def test_a_sip_call_pops_on_the_ringing_agents_page_only(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path
) -> None:
    await calls_pop(sandbox, browser, tmp_path, NAMES)


async def test_a_quote_in_the_sip_display_name_arrives_intact(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path
) -> None:
    await calls_pop(sandbox, browser, tmp_path, [QUOTED])


async def calls_pop(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path, names: list[str]
) -> None:
    """Call once per name; each pops on Anna's page, ringing, then connected, then ended."""
    node = f"pop-{secrets.token_hex(3)}"
    http_port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, http_port)
    settings = await asyncio.to_thread(load_settings, env)
    number = await prepared(settings)
    serve = Process(["serve"], env, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{http_port}"

    async with (
        running([serve]),
        AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=RINGS_FOR, talk_seconds=None),
    ):
        await wait_node_linked(http_port, node, [serve])
        anna = await desk(browser, base, "anowak")
        dialogs: list[str] = []

        async def dismiss(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            await dialog.dismiss()

        anna.on("dialog", dismiss)
        pawel = await desk(browser, base, "pwisniewski")
        pawel_frames = frames_of(pawel)
        await pawel.reload()
        await expect(pawel.locator("#push-status")).to_have_attribute("data-state", "connected")

        card = anna.locator("#call-card")
        await sandbox.cli(f"queue add member PJSIP/{AGENT} to support-pl")
        try:
            for name in names:
                call = asyncio.create_task(
                    place_call(sandbox, caller_number=number, caller_name=name, hold_seconds=1.0)
                )
                try:
                    # on the page while the phone still rings (it answers after 4 s)
                    await expect(card).to_have_attribute("data-state", "ringing", timeout=15_000)
                    assert await card.locator(".caller-name").text_content() == name
                    assert await card.locator(".caller-number").text_content() == number
                    assert await card.locator(".call-queue").text_content() == "support-pl"
                    customer = await card.locator(".call-customer").text_content() or ""
                    assert customer.startswith("klient nr "), customer  # Anna reads Polish
                    assert await card.locator("img, script").count() == 0
                    await expect(card).to_have_attribute("data-state", "connected")
                finally:
                    result = await call
                assert result.outcome == "caller-hangup", result
                await expect(card).to_have_attribute("data-state", "ended")
        finally:
            await sandbox.cli(f"queue remove member PJSIP/{AGENT} from support-pl")

        assert dialogs == []
        assert pawel_frames, "Paweł's page received nothing at all"
        assert not [f for f in pawel_frames if "data-linkedid" in f or number in f]
