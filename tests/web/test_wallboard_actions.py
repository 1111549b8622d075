"""Supervisor actions from the wallboard through a real HTTP client and an embedded bridge on
the loopback AMI server: what reaches Asterisk (an Originate of the supervisor's own phone
into [cc-spy], queue pauses and removals), who is refused, and every attempt recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from contact_center.storage.models import SupervisorAction, User
from contact_center.web.keys import DATABASE, MESSAGING
from tests.ami.fake_ami import FakeAmi, Session
from tests.web.auth_helpers import Client
from tests.web.test_agents_api import ANNA, as_user, post, sent, start, user_id, wait_for
from tests.web.test_wallboard import MEMBER

BOSS_PHONE = "PJSIP/agent-1006"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()

    async def originate(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        return [{"Response": "Success", "Message": "Originate successfully queued"}]

    server.handlers["originate"] = originate
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def client(tmp_path: Path, fake: FakeAmi) -> AsyncIterator[Client]:
    client = await start(tmp_path, fake)
    try:
        await wait_for(lambda: fake.logins > 0 and any(s.logged_in for s in fake.sessions))
        yield client
    finally:
        await client.close()


async def recorded(client: Client) -> list[tuple[Any, ...]]:
    app = client.app
    assert app is not None
    async with app[DATABASE].sessions() as session:
        rows = await session.execute(
            select(
                SupervisorAction.actor_username,
                SupervisorAction.action,
                SupervisorAction.target_interface,
                SupervisorAction.detail,
                SupervisorAction.outcome,
            ).order_by(SupervisorAction.id)
        )
        return [tuple(row) for row in rows]


async def give_phone(client: Client, username: str, interface: str) -> None:
    app = client.app
    assert app is not None
    async with app[DATABASE].sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.username == username).values(interface=interface)
        )


async def test_listen_rings_the_supervisors_own_phone_into_chanspy(
    client: Client, fake: FakeAmi
) -> None:
    anna = await user_id(client, "anna")
    token = await as_user(client, "boss")
    # no phone of their own yet: nothing to ring
    status, body = await post(client, "/api/wallboard/listen", {"user_id": anna}, token)
    assert (status, body["error"]) == (400, "invalid")
    assert not sent(fake, "Originate")

    await give_phone(client, "boss", BOSS_PHONE)
    token = await as_user(client, "boss")  # the session carries the phone from login
    for mode in ("listen", "whisper", "barge"):
        status, body = await post(client, f"/api/wallboard/{mode}", {"user_id": anna}, token)
        assert status == 200, body
    originated = sent(fake, "Originate")
    assert [o["Exten"] for o in originated] == ["listen", "whisper", "barge"]
    assert originated[0] == {
        "Action": "Originate",
        "Channel": BOSS_PHONE,
        "Context": "cc-spy",
        "Exten": "listen",
        "Priority": "1",
        "CallerID": "listen <agent-1001>",
        "Variable": f"CC_SPY_TARGET={ANNA}",
        "Timeout": "30000",
        "Async": "true",
    }
    # what is not an agent's id never reaches AMI
    for bad in ("1\r\nAction: Command", True, [anna], None):
        status, body = await post(client, "/api/wallboard/listen", {"user_id": bad}, token)
        assert status == 400, bad
    status, _ = await post(client, "/api/wallboard/snoop", {"user_id": anna}, token)
    assert status == 404
    assert len(sent(fake, "Originate")) == 3
    rows = await recorded(client)
    assert rows[:4] == [
        ("boss", "listen", ANNA, "", "invalid"),
        ("boss", "listen", ANNA, "listen", "ok"),
        ("boss", "whisper", ANNA, "whisper", "ok"),
        ("boss", "barge", ANNA, "barge", "ok"),
    ]


async def test_an_agent_is_refused_and_the_attempt_recorded(client: Client, fake: FakeAmi) -> None:
    piotr = await user_id(client, "piotr")
    token = await as_user(client, "anna")
    for action in ("listen", "whisper", "barge", "pause", "resume", "logout"):
        status, body = await post(
            client, f"/api/wallboard/{action}", {"user_id": piotr, "reason": "lunch"}, token
        )
        assert (status, body["error"]) == (403, "forbidden"), action
    assert not [f for f in fake.received if f.get("Action") in {"Originate", "QueuePause"}]
    assert {row[0] for row in await recorded(client)} == {"anna"}
    assert {row[4] for row in await recorded(client)} == {"forbidden"}
    # nor does an agent see the wallboard's socket or page
    assert (await client.get("/wallboard")).status == 403


async def test_pause_resume_and_log_out_an_agent(client: Client, fake: FakeAmi) -> None:
    app = client.app
    assert app is not None
    anna = await user_id(client, "anna")
    token = await as_user(client, "boss")
    await fake.event({"Event": "QueueMemberAdded", **MEMBER})
    live = app[MESSAGING].live
    for _ in range(100):
        if await live.agent_state(ANNA) is not None:
            break
        await asyncio.sleep(0.02)
    body = {"user_id": anna, "reason": "training"}
    assert (await post(client, "/api/wallboard/pause", body, token))[0] == 200
    status, answer = await post(
        client, "/api/wallboard/pause", {"user_id": anna, "reason": "x\nAction: Originate"}, token
    )
    assert (status, answer["error"]) == (400, "invalid")
    assert (await post(client, "/api/wallboard/resume", {"user_id": anna}, token))[0] == 200
    assert (await post(client, "/api/wallboard/logout", {"user_id": anna}, token))[0] == 200
    assert sent(fake, "QueuePause") == [
        {"Action": "QueuePause", "Interface": ANNA, "Paused": "true", "Reason": "Training"},
        {"Action": "QueuePause", "Interface": ANNA, "Paused": "false"},
    ]
    assert sent(fake, "QueueRemove") == [
        {"Action": "QueueRemove", "Queue": "support-pl", "Interface": ANNA}
    ]
    assert await recorded(client) == [
        ("boss", "pause", ANNA, "Training", "ok"),
        ("boss", "pause", ANNA, "", "invalid"),
        ("boss", "resume", ANNA, "", "ok"),
        ("boss", "logout", ANNA, "support-pl", "ok"),
    ]
