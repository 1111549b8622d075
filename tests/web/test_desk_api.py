"""The desk's pop and forms through a real HTTP client and real websockets (no SIP: the
call is published as the bridge publishes it): the card and history pushed to the ringing
agent only, notes and a disposition reaching the interaction, an unknown caller added or
linked, the search limited to the agent's customers, a follow-up coming back when due."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from contact_center.bus import AgentCall
from contact_center.storage.models import CallNote, Customer, Interaction, PhoneNumber, Task, User
from contact_center.web.keys import DATABASE, MESSAGING
from tests.web.auth_helpers import Client, origin
from tests.web.test_agents_api import ANNA, KEY_ACCOUNT, STRANGER, as_user, start


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    client = await start(tmp_path, None)
    try:
        yield client
    finally:
        await client.close()


def ringing(
    linkedid: str, customer_id: int | None, number: str, state: str = "ringing"
) -> AgentCall:
    return AgentCall(
        agent_interface=ANNA,
        state=state,
        at=time.time(),
        node="node1",
        linkedid=linkedid,
        uniqueid=linkedid,
        caller_number=number,
        caller_name="<img src=x onerror=alert(1)>",
        customer_id=customer_id,
        queue="support-pl",
        route_reason="Key account of Anna",
    )


async def ids(client: Client) -> dict[str, int]:
    assert client.app is not None
    async with client.app[DATABASE].sessions() as session:
        found = {u: i for u, i in (await session.execute(select(User.username, User.id))).all()}
        for name, number in (("mine", KEY_ACCOUNT), ("other", STRANGER)):
            found[name] = (
                await session.scalar(
                    select(PhoneNumber.customer_id).where(PhoneNumber.e164 == number)
                )
                or 0
            )
    return found


async def socket_of(client: Client, username: str) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    token = await as_user(client, username)
    socket = await client.ws_connect("/push", headers=origin(client))
    await socket.receive_str(timeout=5)  # connected
    await socket.receive_str(timeout=5)  # the current call, state and due tasks
    return socket, token


async def publish(client: Client, call: AgentCall) -> None:
    assert client.app is not None
    await client.app[MESSAGING].notifier.agent_call(call)


async def test_the_ringing_agent_gets_the_card_and_history_the_other_agent_nothing(
    client: Client,
) -> None:
    assert client.app is not None
    known = await ids(client)
    async with client.app[DATABASE].sessions() as session, session.begin():
        session.add(
            Interaction(
                node="node1",
                linkedid="0.1",
                channel="voice",
                customer_id=known["mine"],
                agent_id=known["piotr"],
                started_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                outcome="answered",
                disposition="escalated",
                notes="Asked about <b>invoice</b> 7",
            )
        )
    piotr, _ = await socket_of(client, "piotr")
    anna, _ = await socket_of(client, "anna")
    await publish(client, ringing("1.1", known["mine"], KEY_ACCOUNT))
    frame = await anna.receive_str(timeout=5)
    assert 'data-state="ringing"' in frame
    assert 'class="customer-name">Key Account<' in frame
    assert "Asked about &lt;b&gt;invoice&lt;/b&gt; 7" in frame  # history, as text
    assert "escalated" in frame
    assert "Piotr Łęcka" in frame
    assert "&lt;img src=x onerror=alert(1)&gt;" in frame
    assert 'id="notes-form"' in frame
    # the same call connected: the live card only, the forms stay as typed
    await publish(client, ringing("1.1", known["mine"], KEY_ACCOUNT, "connected"))
    frame = await anna.receive_str(timeout=5)
    assert 'data-state="connected"' in frame
    assert "notes-form" not in frame
    assert "customer-card" not in frame
    with pytest.raises(asyncio.TimeoutError):
        await piotr.receive_str(timeout=0.5)
    await anna.close()
    await piotr.close()


async def test_notes_and_disposition_reach_the_interaction_csrf_required(client: Client) -> None:
    assert client.app is not None
    known = await ids(client)
    token = await as_user(client, "anna")
    await publish(client, ringing("2.1", known["mine"], KEY_ACCOUNT))
    form = {
        "node": "node1",
        "linkedid": "2.1",
        "notes": "Zażółć <script>x</script>",
        "disposition": "resolved",
    }
    refused = await client.post("/desk/notes", data=form)
    assert refused.status == 403
    bad = await client.post("/desk/notes", data=form | {"csrf_token": token, "disposition": "nope"})
    assert bad.status == 400
    assert "no such code" in await bad.text()
    saved = await client.post("/desk/notes", data=form | {"csrf_token": token})
    assert saved.status == 200
    # the call ends; the bridge writes it; the web process's sweep copies the notes
    await publish(client, ringing("2.1", known["mine"], KEY_ACCOUNT, "ended"))
    async with client.app[DATABASE].sessions() as session, session.begin():
        session.add(
            Interaction(
                node="node1",
                linkedid="2.1",
                channel="voice",
                customer_id=known["mine"],
                agent_id=known["anna"],
                started_at=dt.datetime.now(dt.UTC),
                outcome="answered",
            )
        )
    for _ in range(100):
        async with client.app[DATABASE].sessions() as session:
            row = await session.scalar(select(Interaction).where(Interaction.linkedid == "2.1"))
        assert row is not None
        if row.disposition:
            break
        await asyncio.sleep(0.1)
    assert (row.notes, row.disposition) == ("Zażółć <script>x</script>", "resolved")
    # in wrap-up, changed again: straight onto the interaction
    again = await client.post(
        "/desk/notes", data=form | {"csrf_token": token, "notes": "Done", "disposition": ""}
    )
    assert again.status == 200
    async with client.app[DATABASE].sessions() as session:
        row = await session.scalar(select(Interaction).where(Interaction.linkedid == "2.1"))
    assert row is not None
    assert (row.notes, row.disposition) == ("Done", None)
    # another agent cannot write on Anna's call
    token = await as_user(client, "piotr")
    other = await client.post("/desk/notes", data=form | {"csrf_token": token})
    assert other.status == 403


async def test_an_unknown_caller_is_added_or_linked_and_the_search_shows_only_theirs(
    client: Client,
) -> None:
    assert client.app is not None
    known = await ids(client)
    token = await as_user(client, "anna")
    number = "+48 600 100 200"
    await publish(client, ringing("3.1", None, "+48600100200"))
    base = {"csrf_token": token, "node": "node1", "linkedid": "3.1"}
    bad = await client.post(
        "/desk/customers",
        data=base | {"name": "Jan <Kowalski>", "number": "12", "language": "pl", "company": ""},
    )
    assert bad.status == 400
    page = await bad.text()
    assert "not a valid phone number" in page
    assert 'value="Jan &lt;Kowalski&gt;"' in page  # what was typed comes back, as text
    added = await client.post(
        "/desk/customers",
        data=base | {"name": "Jan <Kowalski>", "number": number, "language": "pl", "company": "JK"},
    )
    assert added.status == 200
    assert 'class="customer-name">Jan &lt;Kowalski&gt;<' in await added.text()
    async with client.app[DATABASE].sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.company == "JK"))
        assert customer is not None
        numbers = (
            await session.scalars(
                select(PhoneNumber.e164).where(PhoneNumber.customer_id == customer.id)
            )
        ).all()
        note = await session.scalar(select(CallNote).where(CallNote.linkedid == "3.1"))
    assert list(numbers) == ["+48600100200"]
    assert note is not None
    assert note.customer_id == customer.id

    # the search: Anna sees her key account, not somebody else's customer
    for text, shown in (("Key", True), ("Somebody", False), ("+48221234567", True)):
        found = await client.get(
            "/desk/search", params={"q": text, "node": "node1", "linkedid": "3.2"}
        )
        assert found.status == 200
        assert ("search-match" in await found.text()) is shown, text
    await publish(client, ringing("3.2", None, "+48600999888"))
    linked = await client.post(
        "/desk/link",
        data=base
        | {"linkedid": "3.2", "number": "+48600999888", "customer_id": str(known["mine"])},
    )
    assert linked.status == 200
    assert "Key Account" in await linked.text()
    forbidden = await client.post(
        "/desk/link",
        data=base
        | {"linkedid": "3.2", "number": "+48600999888", "customer_id": str(known["other"])},
    )
    assert forbidden.status == 403
    token = await as_user(client, "boss")
    found = await client.get("/desk/search", params={"q": "Somebody"})
    assert "search-match" in await found.text()


async def test_a_follow_up_comes_back_to_the_agent_when_due(client: Client) -> None:
    assert client.app is not None
    known = await ids(client)
    anna, token = await socket_of(client, "anna")
    await publish(client, ringing("4.1", known["mine"], KEY_ACCOUNT))
    await anna.receive_str(timeout=5)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    local = soon.astimezone(dt.timezone(dt.timedelta(hours=1)))  # Europe/Warsaw in December
    response = await client.post(
        "/desk/tasks",
        data={
            "csrf_token": token,
            "kind": "callback",
            "title": "Ring back about the invoice",
            "due": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "customer_id": str(known["mine"]),
            "number": "",
        },
    )
    assert response.status == 200, await response.text()
    frame = await anna.receive_str(timeout=10)
    assert 'id="tasks-due"' in frame
    assert "Ring back about the invoice" in frame
    async with client.app[DATABASE].sessions() as session:
        task = await session.scalar(select(Task))
    assert task is not None
    assert task.reminded_at is not None
    assert task.phone_number == KEY_ACCOUNT
    done = await client.post(f"/desk/tasks/{task.id}/done", data={"csrf_token": token})
    assert done.status == 200
    assert "Ring back" not in await done.text()
    await anna.close()


async def test_a_customer_card_opens_only_for_a_customer_of_the_agents(client: Client) -> None:
    known = await ids(client)
    await as_user(client, "anna")
    mine = await client.get(f"/desk/customers/{known['mine']}")
    assert mine.status == 200
    page = await mine.text()
    assert 'id="customer-view"' in page
    assert 'class="customer-name">Key Account<' in page
    assert 'name="csrf_token"' in page  # the click-to-call form
    other = await client.get(f"/desk/customers/{known['other']}")
    assert other.status == 403
    assert "Somebody Else" not in await other.text()
    found = await client.get("/desk/search", params={"q": "Key"})
    assert f'hx-get="/desk/customers/{known["mine"]}"' in await found.text()
    await as_user(client, "boss")
    assert (await client.get(f"/desk/customers/{known['other']}")).status == 200
    assert (await client.get("/desk/customers/99999")).status == 403
