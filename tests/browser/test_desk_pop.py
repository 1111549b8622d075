"""The issue's acceptance test, whole: an agent logs in and joins a queue, a known customer
calls through the sandbox (real SIP), the agent's browser shows that customer's card and
contact history while the phone still rings; the notes typed during the call and the
disposition picked in wrap-up, after hang-up, are on the call's interaction in the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import Settings, load_settings
from contact_center.storage.models import Customer, Interaction, PhoneNumber, User
from tests.browser.test_sip_pop import AGENT, AGENT_PORT, desk, prepared
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(300)]

EARLIER_NOTES = "Asked about <b>invoice</b> 7/2026"
NOTES = "Zażółć gęślą jaźń — <script>alert(1)</script> Олена"


async def with_history(settings: Settings, number: str) -> str:
    """An earlier call of the customer (answered by Paweł, with notes and a disposition);
    the customer's name."""
    async with (
        open_database(settings) as database,
        database.sessions() as session,
        session.begin(),
    ):
        customer = await session.scalar(
            select(Customer).join(PhoneNumber).where(PhoneNumber.e164 == number).limit(1)
        )
        pawel = await session.scalar(select(User.id).where(User.username == "pwisniewski"))
        assert customer is not None
        session.add(
            Interaction(
                node="earlier",
                linkedid="earlier.1",
                channel="voice",
                customer_id=customer.id,
                caller_number=number,
                agent_id=pawel,
                started_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
                outcome="answered",
                disposition="escalated",
                notes=EARLIER_NOTES,
            )
        )
        return customer.name


async def interaction_of(settings: Settings, node: str) -> Interaction | None:
    async with open_database(settings) as database, database.sessions() as session:
        return await session.scalar(select(Interaction).where(Interaction.node == node))


async def test_the_pop_shows_card_and_history_and_the_notes_reach_the_interaction(
    sandbox: AsteriskSandbox, browser: Browser, tmp_path: Path
) -> None:
    node = f"desk-{secrets.token_hex(3)}"
    http_port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    env = center_env(sandbox.ami_secret_file(), tmp_path, node, database_url, http_port)
    settings = await asyncio.to_thread(load_settings, env)
    number = await prepared(settings)
    name = await with_history(settings, number)
    serve = Process(["serve"], env, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{http_port}"

    async with (
        running([serve]),
        AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=4.0, talk_seconds=None),
    ):
        await wait_node_linked(http_port, node, [serve])
        anna = await desk(browser, base, "anowak")
        # she joins the queue from the page
        await anna.locator("#queue-choice").select_option("support-pl")
        await anna.locator("#queue-login").click()
        await expect(anna.locator("#agent-state")).to_have_attribute(
            "data-state", "available", timeout=10_000
        )
        card = anna.locator("#call-card")
        customer = anna.locator("#call-customer")
        try:
            call = asyncio.create_task(
                place_call(sandbox, caller_number=number, caller_name="Klient", hold_seconds=6.0)
            )
            try:
                await expect(card).to_have_attribute("data-state", "ringing", timeout=15_000)
                # the card and the history while the phone rings (it answers after 4 s)
                await expect(customer.locator(".customer-name")).to_have_text(name)
                assert await card.get_attribute("data-state") == "ringing"
                history = customer.locator(".history-entry")
                await expect(history.first.locator(".history-notes")).to_have_text(EARLIER_NOTES)
                await expect(history.first.locator(".history-agent")).to_have_text(
                    "Paweł Wiśniewski"
                )
                await expect(card).to_have_attribute("data-state", "connected")
                # notes typed and saved during the call
                await anna.locator("#call-notes-text").fill(NOTES)
                await anna.locator("#notes-save").click()
                await expect(anna.locator("#notes-result")).to_have_text("Notatki zapisane.")
            finally:
                result = await call
            assert result.outcome == "caller-hangup", result
            await expect(card).to_have_attribute("data-state", "ended")
            # wrap-up: the notes are still there; the disposition is picked now
            await expect(anna.locator("#call-notes-text")).to_have_value(NOTES)
            await anna.locator("#call-disposition").select_option("callback_needed")
            await anna.locator("#notes-save").click()
            await expect(anna.locator("#notes-result")).to_have_text("Notatki zapisane.")
        finally:
            await sandbox.cli(f"queue remove member PJSIP/{AGENT} from support-pl")

        row = None
        for _ in range(100):
            row = await interaction_of(settings, node)
            if row is not None and row.disposition is not None:
                break
            await asyncio.sleep(0.1)
        assert row is not None
        assert (row.notes, row.disposition, row.outcome) == (NOTES, "callback_needed", "answered")
        assert row.agent_interface == f"PJSIP/{AGENT}"
