"""Each user sees the pages in their own language, with dates and numbers in its locale;
someone not logged in gets their browser's language."""

# ruff: noqa: RUF001  (Cyrillic letters in Ukrainian texts are meant, not look-alikes)

from __future__ import annotations

import time

import pytest
from playwright.async_api import Browser, expect

from contact_center.bus import NodeStatus
from contact_center.web.keys import MESSAGING
from tests.browser.site import Site, log_in, open_desk, open_page
from tests.browser.test_push import publish, ringing

NBSP, NNBSP = "\u00a0", "\u202f"

CASES = [
    # username, heading, state, call time (AT in Europe/Warsaw), customer, calls in progress
    ("jsmith", "My calls", "Ringing", "5 Mar 2026, 14:07:09", "customer no. 1,234,567", "12,345"),
    (
        "anowak",
        "Moje połączenia",
        "Dzwoni",
        "5 mar 2026, 14:07:09",
        f"klient nr 1{NBSP}234{NBSP}567",
        f"12{NBSP}345",
    ),
    (
        "okovalenko",
        "Мої дзвінки",
        "Дзвонить",
        f"5 бер. 2026{NNBSP}р., 14:07:09",
        f"клієнт № 1{NBSP}234{NBSP}567",
        f"12{NBSP}345",
    ),
]


@pytest.mark.parametrize(("username", "heading", "state", "when", "customer", "calls"), CASES)
async def test_a_user_sees_their_language_dates_and_numbers(
    site: Site,
    browser: Browser,
    username: str,
    heading: str,
    state: str,
    when: str,
    customer: str,
    calls: str,
) -> None:
    context, page = await open_desk(browser, site, username)
    assert await page.locator("h1").inner_text() == heading
    interface = {"jsmith": "PJSIP/agent-1005", "anowak": "PJSIP/agent-1001"}.get(
        username, "PJSIP/agent-1003"
    )
    await publish(site, ringing(interface, "1700000000.66", "Caller"))
    card = page.locator("#call-card")
    await expect(card).to_have_attribute("data-state", "ringing")
    assert (await card.locator(".call-state").inner_text()).startswith(state)
    assert await card.locator(".call-time").text_content() == when
    assert (await card.locator(".call-customer").text_content() or "").startswith(customer)

    await site.app[MESSAGING].live.put_node(NodeStatus("node1", True, 12345, time.time()))
    await page.goto(site.url("/"))
    assert await page.locator("td.active-calls").text_content() == calls
    assert await page.locator("html").get_attribute("lang") == username_language(username)
    await context.close()


def username_language(username: str) -> str:
    return {"jsmith": "en", "anowak": "pl", "okovalenko": "uk"}[username]


@pytest.mark.parametrize(
    ("locale", "button"), [("pl-PL", "Zaloguj się"), ("uk-UA", "Увійти"), ("de-DE", "Log in")]
)
async def test_the_login_page_speaks_the_browsers_language(
    site: Site, browser: Browser, locale: str, button: str
) -> None:
    context, page = await open_page(browser, locale=locale)
    await page.goto(site.url("/login"))
    await expect(page.locator("form.login button[type=submit]")).to_have_text(button)
    await context.close()


@pytest.mark.parametrize(
    ("username", "heading", "add", "nav", "queue"),
    [
        ("mzielinska", "Reguły kierowania", "Dodaj regułę", "Godziny pracy", "kolejka "),
        ("tboiko", "Правила маршрутизації", "Додати правило", "Години роботи", "черга "),
        ("admin", "Routing rules", "Add a rule", "Opening hours", "queue "),
    ],
)
async def test_the_routing_pages_speak_the_supervisors_language(
    site: Site, browser: Browser, username: str, heading: str, add: str, nav: str, queue: str
) -> None:
    context, page = await open_page(browser)
    await log_in(page, site, username, "/routing/rules")
    await expect(page.locator("h1")).to_have_text(heading)
    await expect(page.locator("a.button")).to_have_text(add)
    rule = await page.locator("td.rule-text").last.inner_text()  # the catch-all rule
    assert f"→ {queue}" in rule, rule
    await page.locator("nav.subnav a", has_text=nav).click()
    await expect(page.locator("form.queue-form").first).to_be_visible()
    await context.close()
