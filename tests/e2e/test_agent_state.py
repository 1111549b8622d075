"""Agent state end to end, against the real Asterisk sandbox: through the web API an agent
logs in to a queue (the member shows in `queue show`), pauses with a reason (Asterisk shows
it, and so does the live state the page reads), resumes, clicks to call a customer (their
SIPp phone rings first, then the callee on the trunk's side gets the customer's number),
and logs out. In the embedded mode (`serve`) and the split mode (`web` and `bridge`
processes: the commands travel through Redis)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from contact_center.accounts import Passwords, create_user
from contact_center.runtime import open_database
from contact_center.sandbox import AgentPhone, AsteriskSandbox
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, PhoneNumber, Queue, QueueMembership
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked
from tests.tools.callee import TrunkCallee
from tests.web.auth_helpers import CSRF_INPUT, PASSWORD, cheap_passwords

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]

REDIS_URL = "redis://127.0.0.1:6379/9"
AGENT = "agent-1001"
AGENT_PORT = 5071
CALLEE_PORT = 5070
"""Where the sandbox's [cc-outbound] sends calls (CC_TRUNK_TARGET = 127.0.0.2:5070)."""
QUEUE = "support-en"
CUSTOMER = "+48221112233"
NAME = "Zofia Łęcka"
POLL = 0.1
"""Seconds between looks at Asterisk, the API or SIPp's log (none of them sends news)."""


async def prepare(database_url: str, passwords: Passwords) -> int:
    """Migrate, add the agent (a member of QUEUE) and a customer of theirs: its id."""
    settings = load_settings({}, database_url=database_url)
    async with open_database(settings) as database:
        await upgrade(database.engine)
        user = await create_user(
            database.sessions,
            passwords,
            username="zofia",
            password=PASSWORD,
            role="agent",
            display_name=NAME,
            interface=f"PJSIP/{AGENT}",
        )
        async with database.sessions() as session, session.begin():
            queue = Queue(name=QUEUE, display_name="Support EN")
            customer = Customer(name="Key Account", account_manager_id=user.id)
            session.add_all([queue, customer])
            await session.flush()
            session.add(QueueMembership(user_id=user.id, queue_id=queue.id))
            session.add(PhoneNumber(customer_id=customer.id, e164=CUSTOMER))
            return customer.id


class Desk:
    """The agent's browser, as far as the API goes: a session cookie and its CSRF token."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base, self.token = http, base, ""

    async def log_in(self) -> None:
        async with self.http.post(
            self.base + "/login",
            data={"username": "zofia", "password": PASSWORD, "next": "/"},
            headers={"Origin": self.base},
        ) as response:
            page = await response.text()
        found = CSRF_INPUT.search(page)
        assert found is not None, page
        self.token = found.group(1)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(
            self.base + path, json=body, headers={"X-CSRF-Token": self.token}
        ) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == 200, answer
            return answer

    async def state(self) -> dict[str, Any]:
        async with self.http.get(self.base + "/api/agent/state") as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == 200, answer
            return dict(answer["state"])

    async def state_when(self, wanted: str, within: float = 10.0) -> dict[str, Any]:
        last: dict[str, Any] = {}
        for _ in range(int(within / POLL)):
            if (last := await self.state())["state"] == wanted:
                return last
            await asyncio.sleep(POLL)
        raise AssertionError(f"never {wanted}: {last}")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


async def queue_show(sandbox: AsteriskSandbox) -> str:
    """`queue show QUEUE` without its colours."""
    return ANSI.sub("", await sandbox.cli(f"queue show {QUEUE}"))


async def shown_when(sandbox: AsteriskSandbox, pattern: str, within: float = 5.0) -> str:
    shown = ""
    for _ in range(int(within / POLL)):
        if re.search(pattern, shown := await queue_show(sandbox)):
            return shown
        await asyncio.sleep(POLL)
    raise AssertionError(f"never /{pattern}/ in:\n{shown}")


@contextlib.asynccontextmanager
async def contact_center(sandbox: AsteriskSandbox, tmp_path: Path, mode: str) -> AsyncIterator[str]:
    node = f"agents-{secrets.token_hex(3)}"
    http_port = free_port()
    env = center_env(
        sandbox.ami_secret_file(),
        tmp_path,
        node,
        f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        http_port,
    )
    if mode == "serve":
        processes = [Process(["serve"], env, tmp_path / "serve.log")]
    else:
        split = dict(env, CC_REDIS_URL=REDIS_URL)
        processes = [
            Process(["bridge"], split, tmp_path / "bridge.log"),
            Process(["web"], split, tmp_path / "web.log"),
        ]
    async with running(processes):
        await wait_node_linked(http_port, node, processes)
        yield f"http://127.0.0.1:{http_port}"


@pytest.mark.parametrize("mode", ["serve", "split"])
async def test_queue_login_pause_click_to_call_and_logout(
    sandbox: AsteriskSandbox, tmp_path: Path, mode: str
) -> None:
    customer_id = await prepare(f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}", cheap_passwords())
    async with (
        contact_center(sandbox, tmp_path, mode) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
        AgentPhone(sandbox, AGENT, AGENT_PORT, answer_after=1.0, talk_seconds=3.0) as phone,
        TrunkCallee(sandbox, CALLEE_PORT) as callee,
    ):
        desk = Desk(http, base)
        await desk.log_in()
        assert (await desk.state())["state"] == "logged_out"
        try:
            await desk.post("/api/agent/login", {"queue": QUEUE})
            await shown_when(sandbox, rf"{NAME} \(PJSIP/{AGENT}\) .*\(Not in use\)")
            state = await desk.state_when("available")
            assert [q["queue"] for q in state["queues"]] == [QUEUE]

            assert (await desk.post("/api/agent/pause", {"reason": "lunch"}))["reason"] == "Lunch"
            await shown_when(sandbox, r"\(paused:Lunch was \d+ secs? ago\)")
            state = await desk.state_when("paused")
            assert state["reason"] == "Lunch"
            assert state["queues"][0]["reason"] == "Lunch"

            await desk.post("/api/agent/resume", {})
            shown = await shown_when(sandbox, r"\(Not in use\)")
            assert "paused" not in shown
            await desk.state_when("available")

            # click-to-call: the agent's phone first (it answers after 1 s), then the customer
            await desk.post("/api/agent/call", {"customer_id": customer_id, "number": CUSTOMER})
            await desk.state_when("ringing")
            await desk.state_when("on_call")
            for _ in range(int(15 / POLL)):
                if await callee.dialed():
                    break
                await asyncio.sleep(POLL)
            assert await callee.dialed() == [CUSTOMER]
            assert await phone.answered_calls() == 1
            await desk.state_when("available")  # the agent hung up after 3 s
        finally:
            await desk.post("/api/agent/logout", {})
        shown = await shown_when(sandbox, r"No Members")
        assert NAME not in shown
        await desk.state_when("logged_out")
