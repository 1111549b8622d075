"""The abandoned-call worklist: who is on it (from today's interactions, as the metrics count
an abandon), oldest first; assigning and calling back through the API with an embedded bridge
on the loopback AMI server; callers leaving the list by themselves, pushed to the board."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from contact_center.bus import BusMessage
from contact_center.storage.models import Interaction, Task
from contact_center.web.keys import DATABASE, MESSAGING
from tests.ami.fake_ami import FakeAmi
from tests.web.auth_helpers import Client, origin
from tests.web.test_agents_api import ANNA, as_user, post, sent, start, user_id, wait_for
from tests.web.test_wallboard import PUSH_WITHIN, next_frame
from tests.web.test_wallboard_actions import fake as fake

NUMBERS = {
    "early": "+48221000001",
    "answered_later": "+48221000002",
    "abandoned_later": "+48221000003",
    "short": "+48221000004",
    "twice": "+48221000005",
}


@pytest.fixture
async def client(tmp_path: Path, fake: FakeAmi) -> AsyncIterator[Client]:
    client = await start(tmp_path, fake)
    try:
        await wait_for(lambda: fake.logins > 0 and any(s.logged_in for s in fake.sessions))
        yield client
    finally:
        await client.close()


async def add_calls(client: Client) -> dict[str, int]:
    """Today's calls; the ids of the abandoned ones that belong on the list."""
    app = client.app
    assert app is not None
    now = dt.datetime.now(dt.UTC)
    start_of_list = now - dt.timedelta(minutes=50)

    def call(number: str | None, minute: int, outcome: str, wait: float) -> Interaction:
        return Interaction(
            node="node1",
            linkedid=f"l.{number}.{minute}",
            queue="support-pl",
            caller_number=number or "",
            caller_e164=number,
            caller_name=f"<b>{number}</b>",
            started_at=start_of_list + dt.timedelta(minutes=minute),
            ended_at=start_of_list + dt.timedelta(minutes=minute, seconds=wait),
            wait_seconds=wait,
            outcome=outcome,
        )

    calls = {
        "early": call(NUMBERS["early"], 1, "abandoned", 40),
        "answered_later_1": call(NUMBERS["answered_later"], 2, "abandoned", 30),
        "answered_later_2": call(NUMBERS["answered_later"], 10, "answered", 5),
        "abandoned_later_1": call(NUMBERS["abandoned_later"], 3, "answered", 5),
        "abandoned_later_2": call(NUMBERS["abandoned_later"], 12, "abandoned", 25),
        "short": call(NUMBERS["short"], 4, "abandoned", 2),
        "withheld": call(None, 5, "abandoned", 60),
        "twice_1": call(NUMBERS["twice"], 6, "abandoned", 20),
        "twice_2": call(NUMBERS["twice"], 20, "abandoned", 21),
    }
    async with app[DATABASE].sessions() as session, session.begin():
        session.add_all(calls.values())
    return {name: c.id for name, c in calls.items()}


async def test_the_worklist_oldest_first_and_callers_leave_it(
    client: Client,
    fake: FakeAmi,
) -> None:
    app = client.app
    assert app is not None
    ids = await add_calls(client)
    anna = await user_id(client, "anna")
    token = await as_user(client, "boss")
    socket = await client.ws_connect("/wallboard/push", headers=origin(client))
    whole = await socket.receive_str()
    listed = [int(part.split('"')[0]) for part in whole.split('id="abandoned-')[1:]]
    assert listed == [ids["early"], ids["abandoned_later_2"], ids["twice_2"]]
    assert "&lt;b&gt;+48221000001&lt;/b&gt;" in whole  # the caller's name, as text

    # assigned: a callback task on the agent's desk, the entry says to whom
    body = {"interaction_id": ids["early"], "user_id": anna}
    status, answer = await post(client, "/api/wallboard/assign", body, token)
    assert status == 200, answer
    frame = await next_frame(socket, lambda f: "Assigned to Anna" in f, PUSH_WITHIN)
    assert f'id="abandoned-{ids["early"]}"' in frame
    async with app[DATABASE].sessions() as session:
        task = await session.scalar(select(Task).where(Task.interaction_id == ids["early"]))
    assert task is not None
    assert (task.kind, task.assigned_to_id, task.phone_number) == (
        "callback",
        anna,
        NUMBERS["early"],
    )

    # called back from the list: the agent's phone rings, then the caller's number; gone
    body = {"interaction_id": ids["abandoned_later_2"], "user_id": anna}
    status, answer = await post(client, "/api/wallboard/callback", body, token)
    assert status == 200, answer
    assert sent(fake, "Originate")[-1]["Channel"] == ANNA
    assert sent(fake, "Originate")[-1]["Variable"] == f"CC_DIAL_NUMBER={NUMBERS['abandoned_later']}"
    frame = await next_frame(
        socket,
        lambda f: f'id="abandoned-{ids["abandoned_later_2"]}"' not in f and "wb-abandoned" in f,
        PUSH_WITHIN,
    )

    # the task done on the desk: gone too (read again after the next logged call)
    async with app[DATABASE].sessions() as session, session.begin():
        await session.execute(update(Task).where(Task.id == task.id).values(status="done"))
    await app[MESSAGING].bus.publish(BusMessage("interaction_logged", {"id": 0}))
    frame = await next_frame(socket, lambda f: "wb-abandoned" in f, PUSH_WITHIN)
    listed = [int(part.split('"')[0]) for part in frame.split('id="abandoned-')[1:]]
    assert listed == [ids["twice_2"]]

    # only abandoned calls with a number; only supervisors
    for bad in (ids["answered_later_2"], ids["withheld"], "x", 10**9):
        body = {"interaction_id": bad, "user_id": anna}
        status, _ = await post(client, "/api/wallboard/callback", body, token)
        assert status == 400, bad
    token = await as_user(client, "anna")
    body = {"interaction_id": ids["twice_2"], "user_id": anna}
    status, _ = await post(client, "/api/wallboard/callback", body, token)
    assert status == 403
    assert len(sent(fake, "Originate")) == 1
    await socket.close()
