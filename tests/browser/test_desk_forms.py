"""The desk's forms in a real browser under the strict CSP (htmx, no inline script): an
unknown caller pops with the new-customer form prefilled with the number; a refused form
keeps what was typed and says why; the new customer's card replaces the form; the search
finds only the agent's customers and links the number; notes are saved; a follow-up typed
in the page comes back as due. The call is published as the bridge publishes it."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, expect
from sqlalchemy import select

from contact_center.bus import AgentCall
from contact_center.storage.models import CallNote, Customer, PhoneNumber
from contact_center.web.keys import DATABASE, MESSAGING, SETTINGS
from tests.browser.site import Site, open_desk, start_site

pytestmark = pytest.mark.timeout(120)

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    running = await start_site(tmp_path)
    try:
        yield running
    finally:
        await running.close()


async def ring(site: Site, linkedid: str, number: str) -> None:
    await site.app[MESSAGING].notifier.agent_call(
        AgentCall(
            agent_interface="PJSIP/agent-1001",
            state="ringing",
            at=time.time(),
            node=site.app[SETTINGS].node,
            linkedid=linkedid,
            uniqueid=linkedid,
            caller_number=number,
            caller_name=HOSTILE,
            queue="main",
        )
    )


async def test_an_unknown_caller_becomes_a_customer_and_a_follow_up_comes_back(
    site: Site, browser: Browser
) -> None:
    _context, page = await open_desk(browser, site, "anowak")  # Anna reads Polish
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await ring(site, "5.1", "+48600100200")
    panel = page.locator("#call-customer")
    form = page.locator("#new-customer")
    await expect(form.locator("input[name=number]")).to_have_value("+48600100200")
    await form.locator("input[name=name]").fill(HOSTILE)
    await form.locator("input[name=number]").fill("12")
    await page.locator("#new-customer-save").click()
    await expect(panel.locator(".form-error")).to_contain_text("not a valid phone number")
    await expect(form.locator("input[name=name]")).to_have_value(HOSTILE)  # kept, as text
    await form.locator("input[name=number]").fill("600 100 200")
    await form.locator("input[name=company]").fill("Łódź Sp. z o.o.")
    await page.locator("#new-customer-save").click()
    await expect(panel.locator(".customer-name")).to_have_text(HOSTILE)
    await expect(panel.locator(".customer-company")).to_have_text("Łódź Sp. z o.o.")
    async with site.app[DATABASE].sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.name == HOSTILE))
        assert customer is not None
        numbers = await session.scalars(
            select(PhoneNumber.e164).where(PhoneNumber.customer_id == customer.id)
        )
        assert list(numbers) == ["+48600100200"]

    # a second unknown number: found by the search and linked to the same customer
    await ring(site, "5.2", "+48600300400")
    await expect(page.locator("#call-customer .unknown-caller")).to_be_visible()
    await page.locator("#customer-search input[name=q]").fill("Łódź")
    await page.locator("#customer-search-go").click()
    match = page.locator("#search-results .search-match")
    await expect(match).to_have_count(1)
    await match.locator(".link-customer").click()
    await expect(panel.locator(".customer-name")).to_have_text(HOSTILE)
    async with site.app[DATABASE].sessions() as session:
        note = await session.scalar(select(CallNote).where(CallNote.linkedid == "5.2"))
    assert note is not None
    assert note.customer_id == customer.id

    # notes, then a follow-up due a minute ago (local time): it comes back as due
    await page.locator("#call-notes-text").fill("Nowy klient, oddzwonić")
    await page.locator("#notes-save").click()
    await expect(page.locator("#notes-result")).to_have_text("Notatki zapisane.")
    local = dt.datetime.now(zoneinfo.ZoneInfo(site.app[SETTINGS].timezone))
    due = (local - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    await page.locator("#task-form input[name=title]").fill("Oddzwonić w sprawie oferty")
    await page.locator("#task-form input[name=due]").fill(due)
    await page.locator("#task-save").click()
    await expect(page.locator("#task-result")).to_have_text("Zadanie dodane.")
    task = page.locator("#tasks-due .task-due")
    await expect(task.locator(".task-title")).to_have_text(
        "Oddzwonić w sprawie oferty", timeout=10_000
    )
    await task.locator(".task-done").click()
    await expect(page.locator("#tasks-due .task-due")).to_have_count(0)

    # the general search: this customer is hers now (she linked a call to them)
    await page.locator("#desk-search-text").fill("Łódź")
    await page.locator("#desk-search-go").click()
    await page.locator("#desk-search-results .open-customer").click()
    await expect(page.locator("#customer-view .customer-name")).to_have_text(HOSTILE)
    assert await page.locator("img").count() == 0
    assert dialogs == []
