"""The agent state API through a real HTTP client, a real bridge (embedded) and a loopback
AMI server: roles, CSRF, validation, what reaches Asterisk, and the state coming back from
Asterisk's events."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from redis.driver_info import DriverInfo
from sqlalchemy import select

from contact_center.accounts import create_user
from contact_center.bus.redis import RedisLiveState
from contact_center.calls.agents import AgentState, QueueState
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import (
    Customer,
    PhoneNumber,
    Queue,
    QueueMembership,
    User,
)
from contact_center.web.app import create_app
from contact_center.web.keys import DATABASE, PASSWORDS
from tests.ami.fake_ami import SECRET, USERNAME, FakeAmi, Session
from tests.e2e.harness import free_port
from tests.web.auth_helpers import PASSWORD, Client, cheap_passwords, csrf_token, log_in

ANNA = "PJSIP/agent-1001"
KEY_ACCOUNT = "+48221234567"
STRANGER = "+48587654321"
REDIS_URL = "redis://127.0.0.1:6379/9"


async def start(tmp_path: Path, fake: FakeAmi | None, **more: object) -> Client:
    overrides: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        "state_dir": tmp_path,
        **more,
    }
    environ = {}
    if fake is not None:
        overrides |= {"ami_port": fake.port, "ami_user": USERNAME, "agi_port": free_port()}
        environ["CC_AMI_SECRET"] = SECRET
    settings = load_settings(environ, **overrides)
    app = await asyncio.to_thread(create_app, settings, with_bridge=fake is not None)
    app[PASSWORDS] = cheap_passwords()
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    await upgrade(app[DATABASE].engine)
    await seed(client)
    return client


async def seed(client: Client) -> None:
    app = client.app
    assert app is not None
    sessions, passwords = app[DATABASE].sessions, app[PASSWORDS]
    users = {}
    for username, role, interface in (
        ("anna", "agent", ANNA),
        ("piotr", "agent", "PJSIP/agent-1002"),
        ("boss", "supervisor", None),
        ("root", "admin", None),
    ):
        user = await create_user(
            sessions,
            passwords,
            username=username,
            password=PASSWORD,
            role=role,
            display_name=f"{username.title()} Łęcka",
            interface=interface,
        )
        users[username] = user.id
    async with sessions() as session, session.begin():
        support, sales = (
            Queue(name="support-pl", display_name="PL"),
            Queue(name="sales", display_name="Sales", wrapup_seconds=5),
        )
        session.add_all([support, sales])
        await session.flush()
        session.add(QueueMembership(user_id=users["anna"], queue_id=support.id))
        mine = Customer(name="Key Account", account_manager_id=users["anna"])
        other = Customer(name="Somebody Else")
        session.add_all([mine, other])
        await session.flush()
        session.add(PhoneNumber(customer_id=mine.id, e164=KEY_ACCOUNT))
        session.add(PhoneNumber(customer_id=other.id, e164=STRANGER))


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


async def wait_for(condition: Any, within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the bridge did not log in to the AMI server")


async def as_user(client: Client, username: str) -> str:
    client.session.cookie_jar.clear()
    response = await log_in(client, username)
    assert response.status == 303, await response.text()
    return await csrf_token(client)


async def post(client: Client, path: str, body: object, token: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    response = await client.post(path, data=json.dumps(body), headers=headers)
    return response.status, await response.json()


def sent(fake: FakeAmi, action: str) -> list[dict[str, str]]:
    return [
        {k: v for k, v in f.items() if k != "ActionID"}
        for f in fake.received
        if f.get("Action") == action
    ]


async def test_every_route_needs_a_login(client: Client) -> None:
    for path in ("/api/agent/state", "/api/codes/pause_reason", "/api/agents/states"):
        response = await client.get(path)
        assert response.status == 401
        assert (await response.json())["error"] == "not_logged_in"


async def test_an_agent_logs_in_to_their_queue_and_the_bridge_adds_the_member(
    client: Client, fake: FakeAmi
) -> None:
    token = await as_user(client, "anna")
    status, body = await post(client, "/api/agent/login", {"queue": "support-pl"}, token)
    assert (status, body) == (200, {"ok": True})
    assert sent(fake, "QueueAdd") == [
        {
            "Action": "QueueAdd",
            "Queue": "support-pl",
            "Interface": ANNA,
            "MemberName": "Anna Łęcka",
            "StateInterface": ANNA,
            "Paused": "false",
        }
    ]
    # not her queue, no such queue, a queue name with a line break
    assert (await post(client, "/api/agent/login", {"queue": "sales"}, token))[0] == 403
    for bad in ("no such!", "main\r\nAction: Originate", 7, None):
        status, body = await post(client, "/api/agent/login", {"queue": bad}, token)
        assert (status, body["error"]) == (400, "invalid"), bad
    assert len(sent(fake, "QueueAdd")) == 1


async def test_a_post_without_the_csrf_token_is_refused_before_the_bridge(
    client: Client, fake: FakeAmi
) -> None:
    await as_user(client, "anna")
    for path, body in (
        ("/api/agent/login", {"queue": "support-pl"}),
        ("/api/agent/pause", {"reason": "lunch"}),
        ("/api/agent/call", {"customer_id": 1, "number": KEY_ACCOUNT}),
    ):
        status, answer = await post(client, path, body, None)
        assert (status, answer["error"]) == (403, "csrf_failed")
        status, answer = await post(client, path, body, "forged")
        assert (status, answer["error"]) == (403, "csrf_failed")
    actions = {f.get("Action") for f in fake.received}
    assert actions.isdisjoint({"QueueAdd", "QueuePause", "Originate"})


async def test_pause_with_a_reason_from_the_list_and_resume(client: Client, fake: FakeAmi) -> None:
    token = await as_user(client, "anna")
    status, body = await post(client, "/api/agent/pause", {"reason": "lunch"}, token)
    assert (status, body) == (200, {"ok": True, "reason": "Lunch"})
    assert (await post(client, "/api/agent/resume", {}, token))[0] == 200
    assert sent(fake, "QueuePause") == [
        {"Action": "QueuePause", "Interface": ANNA, "Paused": "true", "Reason": "Lunch"},
        {"Action": "QueuePause", "Interface": ANNA, "Paused": "false"},
    ]
    for reason in ("siesta", "Lunch", "lunch\nAction: Originate", None):
        status, body = await post(client, "/api/agent/pause", {"reason": reason}, token)
        assert (status, body["error"]) == (400, "invalid"), reason
    assert len(sent(fake, "QueuePause")) == 2


async def test_an_agent_acts_on_themself_a_supervisor_on_anyone(
    client: Client, fake: FakeAmi
) -> None:
    token = await as_user(client, "anna")
    piotr = await user_id(client, "piotr")
    anna = await user_id(client, "anna")
    for path in ("/api/agent/pause", "/api/agent/resume", "/api/agent/logout"):
        status, body = await post(client, path, {"reason": "break", "user_id": piotr}, token)
        assert (status, body["error"]) == (403, "forbidden"), path
    response = await client.get(f"/api/agent/state?user_id={piotr}")
    assert response.status == 403
    assert not sent(fake, "QueuePause")

    token = await as_user(client, "boss")
    body = {"reason": "training", "user_id": anna}
    assert (await post(client, "/api/agent/pause", body, token))[0] == 200
    assert (await post(client, "/api/agent/resume", {"user_id": anna}, token))[0] == 200
    status, answer = await post(
        client, "/api/agent/logout", {"user_id": anna, "queue": "support-pl"}, token
    )
    assert (status, answer) == (200, {"ok": True, "queues": ["support-pl"]})
    # only the agent logs themself in
    status, _ = await post(
        client, "/api/agent/login", {"user_id": anna, "queue": "support-pl"}, token
    )
    assert status == 403
    assert [f["Reason"] for f in sent(fake, "QueuePause") if "Reason" in f] == ["Training"]
    assert sent(fake, "QueueRemove") == [
        {"Action": "QueueRemove", "Queue": "support-pl", "Interface": ANNA}
    ]
    # the supervisor has no phone: nothing of their own to pause
    status, answer = await post(client, "/api/agent/pause", {"reason": "break"}, token)
    assert (status, answer["error"]) == (400, "invalid")


async def user_id(client: Client, username: str) -> int:
    app = client.app
    assert app is not None
    async with app[DATABASE].sessions() as session:
        found = await session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


async def customer_id(client: Client, number: str) -> int:
    app = client.app
    assert app is not None
    async with app[DATABASE].sessions() as session:
        found = await session.scalar(
            select(PhoneNumber.customer_id).where(PhoneNumber.e164 == number)
        )
    assert found is not None
    return found


async def test_click_to_call_a_customer_the_agent_handles(client: Client, fake: FakeAmi) -> None:
    token = await as_user(client, "anna")
    mine, other = await customer_id(client, KEY_ACCOUNT), await customer_id(client, STRANGER)
    # typed as a person would (national form, spaces): normalized server-side
    status, body = await post(
        client, "/api/agent/call", {"customer_id": mine, "number": "22 123 45 67"}, token
    )
    assert (status, body) == (200, {"ok": True, "number": KEY_ACCOUNT})
    [originate] = sent(fake, "Originate")
    assert originate["Channel"] == ANNA
    assert originate["Context"] == "cc-outbound"
    assert originate["Variable"] == f"CC_DIAL_NUMBER={KEY_ACCOUNT}"
    # not her customer; a number that is not the customer's; no number at all
    status, body = await post(
        client, "/api/agent/call", {"customer_id": other, "number": STRANGER}, token
    )
    assert (status, body["error"]) == (403, "forbidden")
    for number in (STRANGER, "+48 22 123 45 67\r\nAction: Originate", "112", 48221234567):
        status, body = await post(
            client, "/api/agent/call", {"customer_id": mine, "number": number}, token
        )
        assert (status, body["error"]) == (400, "invalid"), number
    assert len(sent(fake, "Originate")) == 1
    # a supervisor sees every customer, but has no phone to ring first
    token = await as_user(client, "boss")
    status, body = await post(
        client, "/api/agent/call", {"customer_id": other, "number": STRANGER}, token
    )
    assert (status, body["error"]) == (400, "invalid")


async def test_asterisk_refusing_is_a_502_with_its_reason(client: Client, fake: FakeAmi) -> None:
    async def refuse(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        return [{"Response": "Error", "Message": "Interface not found"}]

    fake.handlers["queuepause"] = refuse
    token = await as_user(client, "anna")
    status, body = await post(client, "/api/agent/pause", {"reason": "break"}, token)
    assert (status, body["error"]) == (502, "asterisk_refused")
    assert "Interface not found" in body["message"]


async def test_the_state_follows_asterisks_events(client: Client, fake: FakeAmi) -> None:
    token = await as_user(client, "anna")
    response = await client.get("/api/agent/state")
    body = await response.json()
    assert body["state"]["state"] == "logged_out"
    assert body["queues"] == ["support-pl"]
    assert [c["code"] for c in body["pause_reasons"]] == [
        "break",
        "lunch",
        "training",
        "back_office",
    ]
    member = {
        "Queue": "support-pl",
        "MemberName": "Anna Łęcka",
        "Interface": ANNA,
        "StateInterface": ANNA,
        "Status": "1",
        "Paused": "0",
        "PausedReason": "",
        "InCall": "0",
        "Wrapuptime": "0",
    }
    await fake.event({"Event": "QueueMemberAdded", **member})
    state = await state_when(client, "available")
    assert [(q["queue"], q["state"]) for q in state["queues"]] == [("support-pl", "available")]
    # paused elsewhere (the phone, a supervisor's console): the page sees it all the same
    await fake.event(
        {"Event": "QueueMemberPause", **member, "Paused": "1", "PausedReason": "Lunch"}
    )
    state = await state_when(client, "paused")
    assert state["reason"] == "Lunch"
    assert state["now"] >= state["since"]
    token = await as_user(client, "boss")
    response = await client.get("/api/agents/states")
    agents = (await response.json())["agents"]
    # the loopback server's QueueStatus lists PJSIP/agent1 in "general" too
    assert [(a["agent_interface"], a["state"]) for a in agents] == [
        ("PJSIP/agent-1001", "paused"),
        ("PJSIP/agent1", "available"),
    ]
    await fake.event({"Event": "QueueMemberRemoved", **member})
    await as_user(client, "anna")
    await state_when(client, "logged_out")
    del token


async def state_when(client: Client, wanted: str) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            body = await (await client.get("/api/agent/state")).json()
            if body["state"]["state"] == wanted:
                return dict(body["state"])
            await asyncio.sleep(0.05)


async def test_no_bridge_is_a_503(tmp_path: Path) -> None:
    client = await start(tmp_path, None)
    try:
        token = await as_user(client, "anna")
        status, body = await post(client, "/api/agent/login", {"queue": "support-pl"}, token)
        assert (status, body["error"]) == (503, "bridge_unavailable")
    finally:
        await client.close()


async def test_admins_edit_the_lists_others_read_them(client: Client) -> None:
    token = await as_user(client, "anna")
    response = await client.get("/api/codes/disposition")
    codes = [c["code"] for c in (await response.json())["codes"]]
    assert codes == [
        "resolved",
        "callback_needed",
        "escalated",
        "wrong_number",
        "sales_opportunity",
    ]
    status, _ = await post(client, "/api/codes/pause_reason", {"code": "x", "label": "X"}, token)
    assert status == 403
    assert (await client.get("/api/codes/nonsense")).status == 400

    token = await as_user(client, "root")
    status, body = await post(
        client, "/api/codes/pause_reason", {"code": "meeting", "label": "Zebranie"}, token
    )
    assert status == 200
    assert body["code"]["label"] == "Zebranie"
    status, _ = await post(
        client,
        "/api/codes/pause_reason",
        {"code": "lunch", "label": "Lunch", "active": False},
        token,
    )
    assert status == 200
    for bad in (
        {"code": "Bad Code", "label": "x"},
        {"code": "ok", "label": ""},
        {"code": "ok", "label": "two\nlines"},
        {"code": "ok", "label": "x", "position": -1},
        {"code": "ok", "label": "x", "active": "yes"},
    ):
        status, body = await post(client, "/api/codes/pause_reason", bad, token)
        assert (status, body["error"]) == (400, "invalid"), bad
    listed = await (await client.get("/api/codes/pause_reason")).json()
    assert [c["code"] for c in listed["codes"]] == ["break", "training", "back_office", "meeting"]
    everything = await (await client.get("/api/codes/pause_reason?all=1")).json()
    assert len(everything["codes"]) == 5
    # a retired reason can no longer be chosen
    token = await as_user(client, "anna")
    status, body = await post(client, "/api/agent/pause", {"reason": "lunch"}, token)
    assert (status, body["error"]) == (400, "invalid")


async def test_the_desk_shows_the_state_and_its_buttons_post_forms(
    client: Client, fake: FakeAmi
) -> None:
    token = await as_user(client, "anna")
    page = await (await client.get("/agent")).text()
    assert 'id="agent-state"' in page
    assert 'data-state="logged_out"' in page
    assert '<option value="support-pl">support-pl</option>' in page
    assert '<option value="lunch">Lunch</option>' in page
    # the queue and pause forms, and the header's log-out form
    assert page.count(f'name="csrf_token" value="{token}"') == 3
    # what htmx sends for the pause form: the form's fields, the token among them
    response = await client.post(
        "/api/agent/pause", data={"csrf_token": token, "reason": "training"}
    )
    assert response.status == 200
    assert sent(fake, "QueuePause")[-1]["Reason"] == "Training"
    response = await client.post("/api/agent/pause", data={"reason": "training"})
    assert response.status == 403
    # no phone, no panel
    await as_user(client, "boss")
    page = await (await client.get("/agent")).text()
    assert 'id="agent-state"' not in page


@pytest.mark.redis
async def test_a_restarted_bridge_logs_out_the_phones_asterisk_no_longer_has(
    tmp_path: Path, fake: FakeAmi
) -> None:
    """Split mode: a state kept in Redis by a bridge that stopped, for a phone Asterisk has
    in no queue now, is cleared at the next bridge's first connect; another node's stays."""
    driver = await asyncio.to_thread(DriverInfo)
    redis = Redis.from_url(REDIS_URL, driver_info=driver)
    live = RedisLiveState(redis)
    node = f"n-{uuid.uuid4().hex[:8]}"
    stale = AgentState(
        "PJSIP/agent-1005", node, "paused", 1.0, "Lunch", (QueueState("main", "paused", 1.0),)
    )
    elsewhere = dataclasses.replace(stale, agent_interface="PJSIP/agent-1006", node=node + "x")
    try:
        await live.put_agent_state(stale)
        await live.put_agent_state(elsewhere)
        client = await start(tmp_path, fake, node=node, redis_url=REDIS_URL)
        try:
            for _ in range(100):
                if await live.agent_state(stale.agent_interface) is None:
                    break
                await asyncio.sleep(0.05)
            assert await live.agent_state(stale.agent_interface) is None
            assert await live.agent_state(elsewhere.agent_interface) == elsewhere
            # the loopback server's own member is kept, under this node
            kept = await live.agent_state("PJSIP/agent1")
            assert kept is not None
            assert kept.node == node
        finally:
            await client.close()
    finally:
        await live.put_agent_state(
            AgentState(elsewhere.agent_interface, elsewhere.node, "logged_out", 2.0)
        )
        await live.put_agent_state(AgentState("PJSIP/agent1", node, "logged_out", 2.0))
        await redis.aclose()
