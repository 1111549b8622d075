"""The agent's state on the desk, in Chromium: joining a queue, pausing with a reason,
resuming, and a pause made elsewhere (the phone, a supervisor) all show on the page, with
the time in state counting. The bridge runs in the app, linked to a loopback AMI server that
answers QueueAdd/QueuePause/QueueRemove with the events Asterisk sends for them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from contact_center.demo import load_demo_data
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app
from contact_center.web.keys import DATABASE, PASSWORDS
from tests.ami.fake_ami import SECRET, USERNAME, FakeAmi, Session
from tests.browser.site import Site, open_desk
from tests.e2e.harness import free_port
from tests.web.auth_helpers import PASSWORD, cheap_passwords

ANNA = "PJSIP/agent-1001"


def member(queue: str, paused: bool = False, reason: str = "") -> dict[str, str]:
    return {
        "Queue": queue,
        "MemberName": "Anna Nowak",
        "Interface": ANNA,
        "StateInterface": ANNA,
        "Status": "1",
        "Paused": "1" if paused else "0",
        "PausedReason": reason,
        "InCall": "0",
        "Wrapuptime": "0",
    }


class Queues:
    """Asterisk's queue members as far as the test goes: actions in, events out."""

    def __init__(self, ami: FakeAmi) -> None:
        self.ami = ami
        self.members: set[str] = set()
        for action in ("queueadd", "queueremove", "queuepause"):
            ami.handlers[action] = getattr(self, action)

    async def queueadd(self, session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        self.members.add(fields["Queue"])
        await self.ami.event({"Event": "QueueMemberAdded", **member(fields["Queue"])})
        return [{"Response": "Success", "Message": "Added interface to queue"}]

    async def queueremove(self, session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        self.members.discard(fields["Queue"])
        await self.ami.event({"Event": "QueueMemberRemoved", **member(fields["Queue"])})
        return [{"Response": "Success", "Message": "Removed interface from queue"}]

    async def queuepause(self, session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        paused = fields["Paused"] == "true"
        for queue in sorted(self.members):
            event = member(queue, paused, fields.get("Reason", "") if paused else "")
            await self.ami.event({"Event": "QueueMemberPause", **event})
        return [{"Response": "Success", "Message": "Interface paused successfully"}]


@pytest.fixture
async def linked_site(tmp_path: Path) -> AsyncIterator[tuple[Site, Queues]]:
    ami = FakeAmi()
    await ami.start()
    settings = load_settings(
        {"CC_AMI_SECRET": SECRET},
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        state_dir=tmp_path,
        ami_port=ami.port,
        ami_user=USERNAME,
        agi_port=free_port(),
    )
    app = await asyncio.to_thread(create_app, settings, with_bridge=True)
    app[PASSWORDS] = cheap_passwords()
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        database = app[DATABASE]
        await upgrade(database.engine)
        password_hash = await app[PASSWORDS].hash(PASSWORD)
        await load_demo_data(
            database.sessions, customers=5, days_of_history=1, password_hash=password_hash
        )
        yield Site(app, server), Queues(ami)
    finally:
        await server.close()
        await ami.stop()


async def test_join_pause_resume_and_a_pause_from_elsewhere_show_on_the_desk(
    browser: Browser, linked_site: tuple[Site, Queues]
) -> None:
    site, queues = linked_site
    context, page = await open_desk(browser, site, "anowak")
    try:
        panel = page.locator("#agent-state")
        await expect(panel).to_have_attribute("data-state", "logged_out")
        await expect(panel.locator(".state-label")).to_have_text("Poza kolejkami")  # Polish

        await page.locator("#queue-choice").select_option("support-pl")
        await page.locator("#queue-login").click()
        await expect(panel).to_have_attribute("data-state", "available")
        await expect(panel.locator("li[data-queue=support-pl]")).to_have_attribute(
            "data-state", "available"
        )
        assert queues.members == {"support-pl"}

        await page.locator("#pause-reason").select_option("lunch")
        await page.locator("#pause").click()
        await expect(panel).to_have_attribute("data-state", "paused")
        await expect(panel.locator(".state-reason")).to_have_text("Lunch")
        timer = panel.locator(".state-timer")
        await expect(timer).to_have_text(re.compile(r"^0:0[0-9]$"))
        first = await timer.text_content()
        await expect(timer).not_to_have_text(first or "", timeout=3000)  # it counts

        await page.locator("#resume").click()
        await expect(panel).to_have_attribute("data-state", "available")
        await expect(panel.locator(".state-reason")).to_have_count(0)

        # paused by a supervisor (or from the phone): the page follows Asterisk's event
        await queues.ami.event(
            {"Event": "QueueMemberPause", **member("support-pl", True, "<b>Coaching</b>")}
        )
        await expect(panel).to_have_attribute("data-state", "paused")
        await expect(panel.locator(".state-reason")).to_have_text("<b>Coaching</b>")
        assert await panel.locator("b").count() == 0  # shown as text, never as markup

        # a refusal shows under the controls
        await page.locator("#queue-choice").select_option("vip")
        queues.ami.handlers["queueadd"] = refuse
        await page.locator("#queue-login").click()
        await expect(page.locator("#agent-error")).to_have_text(re.compile("Nope"))

        await page.locator("#queue-choice").select_option("support-pl")
        await page.locator("#queue-logout").click()
        await expect(panel).to_have_attribute("data-state", "logged_out")
    finally:
        await context.close()


async def refuse(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
    return [{"Response": "Error", "Message": "Nope"}]
