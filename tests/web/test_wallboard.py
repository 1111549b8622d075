"""The wallboard through a real HTTP client and websocket, an embedded bridge on the loopback
AMI server, and today's calls in the database: who may see it, the whole board on connect,
and each change pushed within half a second of the event that made it."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from contact_center.bus import AgentCall, BusMessage
from contact_center.storage.models import Interaction, User
from contact_center.web.keys import DATABASE, MESSAGING
from tests.ami.fake_ami import FakeAmi
from tests.web.auth_helpers import Client, origin
from tests.web.test_agents_api import ANNA, as_user, start, wait_for

PUSH_WITHIN = 0.5
MEMBER = {
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


def caller_join(uniqueid: str, queue: str = "support-pl") -> dict[str, str]:
    return {
        "Event": "QueueCallerJoin",
        "Timestamp": f"{time.time():.6f}",
        "Channel": f"PJSIP/trunk-{uniqueid[-4:]}",
        "ChannelState": "4",
        "CallerIDNum": "+48226543210",
        "CallerIDName": "Olena",
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
        "Queue": queue,
        "Position": "1",
        "Count": "1",
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
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


async def next_frame(
    socket: aiohttp.ClientWebSocketResponse, wanted: Callable[[str], bool], within: float
) -> str:
    """The first frame `wanted` accepts, which must come within `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            frame = await socket.receive_str()
            if wanted(frame):
                return frame


def figure(frame: str, name: str, value: object) -> bool:
    return f'data-figure="{name}">{value}<' in frame


async def test_only_supervisors_and_admins_see_the_wallboard(client: Client) -> None:
    response = await client.get("/wallboard", allow_redirects=False)
    assert response.status == 303
    response = await client.get("/wallboard/push", headers=origin(client))
    assert response.status == 401
    await as_user(client, "anna")
    response = await client.get("/wallboard")
    assert response.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/wallboard/push", headers=origin(client))
    assert refused.value.status == 403
    for who in ("boss", "root"):
        await as_user(client, who)
        page = await (await client.get("/wallboard")).text()
        assert 'id="queue-support-pl"' in page
        assert 'id="queue-sales"' in page
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/wallboard/push", headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403


async def test_each_change_is_pushed_within_half_a_second(client: Client, fake: FakeAmi) -> None:
    app = client.app
    assert app is not None
    await as_user(client, "boss")
    socket = await client.ws_connect("/wallboard/push", headers=origin(client))
    whole = await socket.receive_str()
    assert 'id="queue-support-pl"' in whole
    assert 'id="wb-agents"' in whole

    await fake.event({"Event": "QueueMemberAdded", **MEMBER})
    frame = await next_frame(socket, lambda f: figure(f, "available", 1), PUSH_WITHIN)
    assert figure(frame, "logged_in", 1)
    assert "Anna Łęcka" in frame  # the agent's row, by the name in the users table

    await fake.event(caller_join("node-1.41"))
    frame = await next_frame(socket, lambda f: figure(f, "waiting", 1), PUSH_WITHIN)
    await fake.event(caller_join("node-1.42"))
    frame = await next_frame(socket, lambda f: figure(f, "waiting", 2), PUSH_WITHIN)
    assert 'data-figure="longest_wait" data-since=' in frame

    await fake.event(
        {"Event": "QueueMemberPause", **MEMBER, "Paused": "1", "PausedReason": "Lunch"}
    )
    frame = await next_frame(socket, lambda f: figure(f, "paused", 1), PUSH_WITHIN)
    assert 'data-reason="Lunch">Lunch: 1<' in frame

    # a caller's name is their text: shown as text
    hostile = '<img src=x onerror="alert(1)">'
    await app[MESSAGING].notifier.agent_call(
        AgentCall(ANNA, "connected", time.time(), "node1", "l.1", "u.1", "+48226543210", hostile)
    )
    frame = await next_frame(socket, lambda f: "+48226543210" in f, PUSH_WITHIN)
    assert hostile not in frame
    assert "&lt;img src=x onerror=" in frame

    # a call logged today: the figures come from the analytics definitions
    async with app[DATABASE].sessions() as session, session.begin():
        anna = await session.scalar(select(User.id).where(User.username == "anna"))
        now = dt.datetime.now(dt.UTC)
        session.add(
            Interaction(
                node="node1",
                linkedid="l.0",
                queue="support-pl",
                agent_id=anna,
                agent_interface=ANNA,
                started_at=now - dt.timedelta(minutes=2),
                answered_at=now - dt.timedelta(minutes=1),
                ended_at=now,
                wait_seconds=12.0,
                talk_seconds=50.0,
                hold_seconds=0.0,
                wrapup_seconds=10.0,
                outcome="answered",
            )
        )
    await app[MESSAGING].bus.publish(BusMessage("interaction_logged", {"id": 1}))
    frame = await next_frame(socket, lambda f: figure(f, "offered", 1), PUSH_WITHIN)
    assert figure(frame, "answered", 1)
    assert figure(frame, "service_level", "100%")
    assert figure(frame, "asa", "0:12")
    assert figure(frame, "aht", "1:00")
    assert figure(frame, "calls_today", 1)
    await socket.close()


async def test_a_queues_thresholds_turn_its_tile_amber_then_red(
    client: Client, fake: FakeAmi
) -> None:
    await as_user(client, "anna")
    assert (await client.get("/wallboard/alerts")).status == 403
    token = await as_user(client, "boss")
    page = await (await client.get("/wallboard/alerts")).text()
    assert 'id="alerts-support-pl"' in page
    socket = await client.ws_connect("/wallboard/push", headers=origin(client))
    whole = await socket.receive_str()
    assert 'id="queue-support-pl" class="tile level-ok"' in whole

    def form(**values: str) -> dict[str, str]:
        fields = dict.fromkeys(
            (
                "waiting_amber",
                "waiting_red",
                "longest_wait_amber",
                "longest_wait_red",
                "service_level_amber",
                "service_level_red",
            ),
            "",
        )
        return {"csrf_token": token, "queue": "support-pl", **fields, **values}

    for bad in (
        {"waiting_amber": "3", "waiting_red": "2"},
        {"waiting_red": "x"},
        {"service_level_red": "150"},
        {"waiting_amber": "1.5"},
    ):
        response = await client.post("/wallboard/alerts", data=form(**bad))
        assert response.status == 400, bad
    response = await client.post(
        "/wallboard/alerts", data=form(waiting_amber="1", waiting_red="2", longest_wait_red="600")
    )
    assert response.status == 200
    assert 'id="alerts-saved"' in await response.text()

    await fake.event(caller_join("node-1.51"))
    frame = await next_frame(socket, lambda f: figure(f, "waiting", 1), PUSH_WITHIN)
    assert 'id="queue-support-pl" class="tile level-amber"' in frame
    await fake.event(caller_join("node-1.52"))
    frame = await next_frame(socket, lambda f: figure(f, "waiting", 2), PUSH_WITHIN)
    assert 'id="queue-support-pl" class="tile level-red"' in frame
    assert 'class="fig big alert"><dt>Waiting' in frame
    await socket.close()
