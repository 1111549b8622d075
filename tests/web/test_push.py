"""The push channel below the browser: the hub's addressing and its bounded queues, the
agent's current call in both live states, and the websocket's refusals through a real
HTTP client."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, update

from contact_center.accounts import Identity, create_user
from contact_center.bus import AgentCall, BusMessage, LiveState, MemoryLiveState
from contact_center.bus.redis import AGENT_CALL, RedisLiveState
from contact_center.storage.models import User, UserSession
from contact_center.web.keys import DATABASE, MESSAGING, PASSWORDS, PUSH_HUB
from contact_center.web.push.hub import PushClient, PushHub
from tests.web.auth_helpers import PASSWORD, Client, app_client, log_in, log_in_as, origin

REDIS_URL = "redis://127.0.0.1:6379/9"


def identity(user_id: int, role: str = "agent", interface: str | None = None) -> Identity:
    return Identity(
        session_id=100 + user_id,
        user_id=user_id,
        username=f"user{user_id}",
        display_name=f"User {user_id}",
        role=role,
        language="en",
        interface=interface,
        csrf_token="x",
    )


def call(interface: str, linkedid: str, state: str = "ringing") -> AgentCall:
    return AgentCall(
        agent_interface=interface,
        state=state,
        at=time.time(),
        node="node1",
        linkedid=linkedid,
        uniqueid=linkedid,
        caller_name="Jan",
    )


def test_messages_go_only_to_the_clients_they_are_addressed_to() -> None:
    hub = PushHub()
    anna = PushClient(identity(1, interface="PJSIP/agent-1001"))
    anna_tab = PushClient(identity(1, interface="PJSIP/agent-1001"))
    pawel = PushClient(identity(2, interface="PJSIP/agent-1002"))
    boss = PushClient(identity(3, role="supervisor"))
    for client in (anna, anna_tab, pawel, boss):
        hub.add(client)

    assert hub.dispatch(call("PJSIP/agent-1001", "1.1").message()) == 2
    assert hub.dispatch(BusMessage("user.task_due", {"user_id": 2})) == 1
    assert hub.dispatch(BusMessage("supervisor.queues", {"waiting": 3})) == 1
    assert (
        hub.dispatch(BusMessage("interaction_logged", {"agent_interface": "PJSIP/agent-1001"})) == 0
    )
    assert hub.dispatch(BusMessage("agent.call", {"agent_interface": "PJSIP/agent-9999"})) == 0
    assert hub.dispatch(BusMessage("user.x", {"user_id": True})) == 0  # not an id
    assert (anna.queue.qsize(), anna_tab.queue.qsize(), pawel.queue.qsize()) == (1, 1, 1)
    assert boss.queue.qsize() == 1

    hub.remove(anna_tab)
    assert hub.dispatch(call("PJSIP/agent-1001", "1.2").message()) == 1
    assert len(hub.clients()) == 3


def test_a_client_that_falls_behind_is_dropped_not_waited_for() -> None:
    hub = PushHub()
    slow = PushClient(identity(1, interface="PJSIP/agent-1001"), backlog=3)
    tab = PushClient(identity(1, interface="PJSIP/agent-1001"), backlog=100)
    hub.add(slow)
    hub.add(tab)
    for n in range(5):
        hub.dispatch(call("PJSIP/agent-1001", f"1.{n}").message())
    assert slow.stopped.is_set()
    assert slow.close_code == 1013
    assert slow.queue.qsize() == 3
    assert not tab.stopped.is_set()
    assert tab.queue.qsize() == 5


def test_a_logout_stops_only_that_sessions_clients() -> None:
    hub = PushHub()
    mine, other = PushClient(identity(1)), PushClient(identity(2))
    hub.add(mine)
    hub.add(other)
    assert hub.dispatch(BusMessage("session.ended", {"session_id": 101})) == 1
    assert (mine.stopped.is_set(), mine.close_code) == (True, 1008)
    assert not other.stopped.is_set()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def live(request: pytest.FixtureRequest) -> AsyncIterator[LiveState]:
    if request.param == "memory":
        yield MemoryLiveState()
        return
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.delete(AGENT_CALL + "PJSIP/agent-1001")
        yield RedisLiveState(redis)
        await redis.delete(AGENT_CALL + "PJSIP/agent-1001")
    finally:
        await redis.aclose()


async def test_the_live_state_keeps_the_agents_current_call(live: LiveState) -> None:
    interface = "PJSIP/agent-1001"
    assert await live.agent_call(interface) is None
    await live.put_agent_call(call(interface, "1.1"))
    await live.put_agent_call(call(interface, "1.1", "connected"))
    kept = await live.agent_call(interface)
    assert kept is not None
    assert (kept.linkedid, kept.state, kept.caller_name) == ("1.1", "connected", "Jan")
    await live.put_agent_call(call(interface, "1.2"))  # the next call rings
    await live.put_agent_call(call(interface, "1.1", "ended"))  # late end of the first
    kept = await live.agent_call(interface)
    assert kept is not None
    assert kept.linkedid == "1.2"
    await live.put_agent_call(call(interface, "1.2", "ended"))
    assert await live.agent_call(interface) is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "agent_interface": "PJSIP/a",
            "state": "dancing",
            "at": 1.0,
            "node": "n",
            "linkedid": "1",
            "uniqueid": "1",
        },
        {
            "agent_interface": "PJSIP/a",
            "state": "ringing",
            "at": "now",
            "node": "n",
            "linkedid": "1",
            "uniqueid": "1",
        },
        {
            "agent_interface": "",
            "state": "ringing",
            "at": 1.0,
            "node": "n",
            "linkedid": "1",
            "uniqueid": "1",
        },
        {
            "agent_interface": "PJSIP/a",
            "state": "ringing",
            "at": 1.0,
            "node": "n",
            "linkedid": "1",
            "uniqueid": "1",
            "candidates": ["7"],
        },
        {
            "agent_interface": "PJSIP/a",
            "state": "ringing",
            "at": 1.0,
            "node": "n",
            "linkedid": "1",
            "uniqueid": "1",
            "customer_id": True,
        },
    ],
)
def test_a_malformed_agent_call_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"agent\.call"):
        AgentCall.from_data(data)


def test_an_agent_call_survives_the_bus() -> None:
    original = AgentCall(
        agent_interface="PJSIP/agent-1003",
        state="on_hold",
        at=1700000000.5,
        node="node1",
        linkedid="1.9",
        uniqueid="1.10",
        caller_number="+380441234567",
        caller_name="Олена Коваленко",
        customer_id=42,
        candidates=(43, 44),
        queue="support-uk",
        route_rule="language",
        route_reason="Customer language uk",
    )
    message = BusMessage.decode(original.message().encode())
    assert message.topic == "agent.call"
    assert AgentCall.from_data(message.data) == original
    assert AgentCall.decode(original.encode()) == original
    long = AgentCall.from_data({**original.to_data(), "caller_name": "x" * 5000})
    assert long.caller_name == "x" * 200


@pytest.fixture
async def client(tmp_path: object) -> AsyncIterator[Client]:
    client = await app_client(f"sqlite+aiosqlite:///{tmp_path}/cc.sqlite3")
    try:
        yield client
    finally:
        await client.close()


async def test_the_socket_refuses_no_session_and_other_sites(client: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/push", headers=origin(client))
    assert refused.value.status == 401
    await log_in_as(client, "anna")
    for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/push", headers=headers)
        assert refused.value.status == 403
    plain = await client.get("/push", headers=origin(client))
    assert plain.status == 400
    socket = await client.ws_connect("/push", headers=origin(client))
    first = await socket.receive_str(timeout=5)
    assert 'id="push-status"' in first
    await socket.close()


async def test_a_socket_too_slow_to_read_is_closed(client: Client) -> None:
    await log_in_as(client, "anna")
    assert client.app is not None
    socket = await client.ws_connect("/push", headers=origin(client))
    await socket.receive_str(timeout=5)
    await socket.receive_str(timeout=5)
    hub = client.app[PUSH_HUB]
    (pushed,) = hub.clients()
    for n in range(pushed.backlog + 1):  # queued faster than the handler can send
        pushed.offer(BusMessage("agent.call", {"n": n}))
    closed = await socket.receive(timeout=5)
    while closed.type == aiohttp.WSMsgType.TEXT:
        closed = await socket.receive(timeout=5)
    assert closed.type == aiohttp.WSMsgType.CLOSE
    assert closed.data == 1013
    for _ in range(50):
        if not hub.clients():
            break
        await asyncio.sleep(0.05)
    assert hub.clients() == []
    await client.app[MESSAGING].notifier.session_ended(0)  # the process goes on


async def test_a_socket_whose_session_ended_elsewhere_is_closed(client: Client) -> None:
    """A session ended behind the web process's back (`user passwd` in another process,
    an expiry) is noticed at the next recheck, and the page is told not to reconnect."""
    await log_in_as(client, "anna")
    assert client.app is not None
    client.app[PUSH_HUB].session_recheck = 0.2
    socket = await client.ws_connect("/push", headers=origin(client))
    await socket.receive_str(timeout=5)
    await socket.receive_str(timeout=5)
    async with client.app[DATABASE].sessions() as session, session.begin():
        await session.execute(delete(UserSession))
    closed = await socket.receive(timeout=5)
    assert closed.type == aiohttp.WSMsgType.CLOSE
    assert closed.data == 1008


@pytest.mark.redis
async def test_split_mode_a_message_reaches_the_socket_on_another_web_process(
    tmp_path: Path,
) -> None:
    """Two web processes on one Redis: the call published through one reaches the agent's
    socket on the other, and the current call is read from Redis on connect."""
    database_url = f"sqlite+aiosqlite:///{tmp_path}/cc.sqlite3"
    interface = f"PJSIP/agent-test-{uuid.uuid4().hex[:8]}"
    first = await app_client(database_url, redis_url=REDIS_URL)
    second = await app_client(database_url, redis_url=REDIS_URL)
    try:
        assert first.app is not None
        assert second.app is not None
        await create_user(
            second.app[DATABASE].sessions,
            second.app[PASSWORDS],
            username="anna",
            password=PASSWORD,
            role="agent",
            display_name="Anna",
            interface=interface,
        )
        assert (await log_in(second, "anna")).status == 303
        notifier = first.app[MESSAGING].notifier
        await notifier.agent_call(call(interface, "9.1"))
        socket = await second.ws_connect("/push", headers=origin(second))
        await socket.receive_str(timeout=5)
        on_connect = await socket.receive_str(timeout=5)
        assert 'data-linkedid="9.1"' in on_connect  # kept in Redis by the first process
        await notifier.agent_call(call(interface, "9.1", "connected"))
        pushed = await socket.receive_str(timeout=5)
        assert 'data-state="connected"' in pushed
        await notifier.agent_call(call(interface, "9.1", "ended"))
        assert 'data-state="ended"' in await socket.receive_str(timeout=5)
        assert await second.app[MESSAGING].live.agent_call(interface) is None
        await socket.close()
    finally:
        await first.close()
        await second.close()


async def test_a_socket_is_renewed_when_the_users_phone_changes(client: Client) -> None:
    """An admin gives the agent another phone: at the next recheck the socket closes with
    1012, so the page reconnects and gets the new phone's calls."""
    await log_in_as(client, "anna")
    assert client.app is not None
    client.app[PUSH_HUB].session_recheck = 0.2
    socket = await client.ws_connect("/push", headers=origin(client))
    await socket.receive_str(timeout=5)
    await socket.receive_str(timeout=5)
    async with client.app[DATABASE].sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.username == "anna").values(interface="PJSIP/agent-1006")
        )
    closed = await socket.receive(timeout=5)
    assert closed.type == aiohttp.WSMsgType.CLOSE
    assert closed.data == 1012
    again = await client.ws_connect("/push", headers=origin(client))
    await again.receive_str(timeout=5)
    await again.receive_str(timeout=5)
    (renewed,) = client.app[PUSH_HUB].clients()
    assert renewed.identity.interface == "PJSIP/agent-1006"
    await again.close()
