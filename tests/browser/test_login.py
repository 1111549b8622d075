"""Logging in through the page in a real browser, and what each role may open."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.site import Site, log_in, open_page


async def test_an_agent_logs_in_and_sees_their_own_page(site: Site, browser: Browser) -> None:
    context, page = await open_page(browser)
    await page.goto(site.url("/agent"))
    await expect(page).to_have_url(site.url("/login?next=%2Fagent"))
    await page.locator("#username").fill("jsmith")
    await page.locator("#password").fill("not the password")
    await page.locator("form.login button[type=submit]").click()
    await expect(page.locator("#login-error")).to_be_visible()
    await log_in(page, site, "jsmith", "/agent")
    await expect(page).to_have_url(site.url("/agent"))
    await expect(page.locator("form.who")).to_contain_text("John Smith")
    await expect(page.locator("#call-card")).to_be_visible()
    await context.close()


async def test_a_supervisor_page_is_refused_to_an_agent(site: Site, browser: Browser) -> None:
    context, page = await open_page(browser)
    await log_in(page, site, "jsmith")
    response = await page.goto(site.url("/routing/rules"))
    assert response is not None
    assert response.status == 403
    await expect(page.locator("p.error")).to_be_visible()
    await expect(page.locator("table.rules")).to_have_count(0)
    supervisor, other = await open_page(browser)
    await log_in(other, site, "mzielinska", "/routing/rules")
    await expect(other.locator("table.rules")).to_be_visible()
    await supervisor.close()
    await context.close()
