"""What the screen pop loads for a call, and who may see which customer."""

from __future__ import annotations

import datetime as dt

import pytest

from contact_center.accounts import Identity
from contact_center.bus import AgentCall
from contact_center.desk import call_notes
from contact_center.desk import pop as pops
from contact_center.desk.pop_sqlite import PopSource
from contact_center.desk.visibility import may_see, visible
from contact_center.storage.models import Customer, PhoneNumber
from tests.crm.conftest import NOW, Database, Seed, call


def agent(user_id: int, role: str = "agent") -> Identity:
    return Identity(1, user_id, "u", "U", role, "pl", "PJSIP/agent-1001", "t")


def ringing(customer_id: int | None, candidates: tuple[int, ...] = ()) -> AgentCall:
    return AgentCall(
        agent_interface="PJSIP/agent-1001",
        state="ringing",
        at=NOW.timestamp(),
        node="node1",
        linkedid="1800.1",
        uniqueid="1800.1",
        caller_number="+48601234567",
        customer_id=customer_id,
        candidates=candidates,
    )


async def test_the_pop_holds_the_card_the_history_and_the_ranked_candidates(
    database: Database, seed: Seed
) -> None:
    async with database.sessions() as session, session.begin():
        for minutes in range(7):
            session.add(
                call(
                    seed.zaneta,
                    NOW - dt.timedelta(minutes=minutes),
                    f"17.{minutes}",
                    agent_id=seed.olena,
                    disposition="resolved",
                    notes=f"call {minutes}",
                )
            )
    pop = await pops.load(
        database.sessions, ringing(seed.zaneta, (seed.acme, seed.olha)), seed.anna
    )
    assert pop.customer is not None
    card = pop.customer.card
    assert (card.name, card.tier, card.account_manager_name) == (
        "Żaneta Kowalska",
        "vip",
        "Anna Nowak",
    )
    assert card.open_case_count == 2
    assert [e.notes for e in pop.customer.history] == [f"call {m}" for m in range(5)]
    assert pop.customer.history[0].agent_name == "Олена Коваленко"
    assert pop.customer.more_history
    assert [c.id for c in pop.candidates] == [seed.acme, seed.olha]
    assert "resolved" in [d.code for d in pop.dispositions]
    assert pop.draft == pops.Draft()


async def test_an_unknown_caller_has_no_card_until_linked(database: Database, seed: Seed) -> None:
    pop = await pops.load(database.sessions, ringing(None), seed.anna)
    assert (pop.customer, pop.candidates, pop.number) == (None, (), "+48601234567")
    async with database.sessions() as session, session.begin():
        await call_notes.link_customer(
            session, node="node1", linkedid="1800.1", user_id=seed.anna, customer_id=seed.acme
        )
    pop = await pops.load(database.sessions, ringing(None), seed.anna)
    assert pop.customer is not None
    assert pop.customer.card.id == seed.acme


async def test_an_agent_sees_the_customers_they_handle_only(database: Database, seed: Seed) -> None:
    async with database.sessions() as session, session.begin():
        stranger = Customer(name="Stranger", language="en")
        session.add(stranger)
        await session.flush()
        session.add(PhoneNumber(customer_id=stranger.id, e164="+48500000001"))
        session.add(call(seed.acme, NOW, "19.1", agent_id=seed.anna))
    anna = agent(seed.anna)
    async with database.sessions() as session:
        # key account, and a past call
        assert await may_see(session, anna, seed.zaneta)
        assert await may_see(session, anna, seed.acme)
        assert not await may_see(session, anna, stranger.id)
        # the customer of the call ringing on her phone is hers to see
        assert await may_see(session, anna, stranger.id, ringing(None, ())) is False
        assert await may_see(session, anna, stranger.id, ringing(seed.zaneta, (stranger.id,)))
        assert await visible(session, anna, [stranger.id, seed.zaneta]) == [seed.zaneta]
        assert await visible(session, agent(seed.anna, "supervisor"), [stranger.id]) == [
            stranger.id
        ]


async def test_the_sqlite_loader_in_one_thread_trip_loads_the_same_pop(
    database: Database, seed: Seed
) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the one-trip loader is for SQLite files")
    async with database.sessions() as session, session.begin():
        for minutes in range(7):
            session.add(call(seed.zaneta, NOW - dt.timedelta(minutes=minutes), f"20.{minutes}"))
        await call_notes.save_notes(
            session, node="node1", linkedid="1800.1", user_id=seed.anna, notes="n", disposition=""
        )
    source = await PopSource.open(database.sessions)
    try:
        for ringing_call in (ringing(seed.zaneta, (seed.acme, seed.olha)), ringing(None)):
            expected = await pops.load(database.sessions, ringing_call, seed.anna)
            assert await source.load(ringing_call, seed.anna) == expected
    finally:
        await source.close()


async def test_the_concurrent_loader_loads_the_same_pop(database: Database, seed: Seed) -> None:
    async with database.sessions() as session, session.begin():
        for minutes in range(7):
            session.add(call(seed.zaneta, NOW - dt.timedelta(minutes=minutes), f"21.{minutes}"))
    calls = (ringing(seed.zaneta, (seed.acme, 999_999, seed.olha)), ringing(None), ringing(999_999))
    for ringing_call in calls:
        expected = await pops.load(database.sessions, ringing_call, seed.anna)
        assert await pops.load_concurrently(database.sessions, ringing_call, seed.anna) == expected
    # the number linked by the agent to another customer: that one first
    async with database.sessions() as session, session.begin():
        await call_notes.link_customer(
            session, node="node1", linkedid="1800.1", user_id=seed.anna, customer_id=seed.acme
        )
    linked = await pops.load_concurrently(database.sessions, ringing(seed.zaneta), seed.anna)
    assert linked.customer is not None
    assert linked.customer.card.id == seed.acme
    assert [c.id for c in linked.candidates] == [seed.zaneta]
    assert linked == await pops.load(database.sessions, ringing(seed.zaneta), seed.anna)
