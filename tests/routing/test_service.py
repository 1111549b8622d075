"""The routing service against a real database (SQLite and PostgreSQL) and live state."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from contact_center.bus import MemoryLiveState, QueueSnapshot
from contact_center.routing import service
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.service import Router
from contact_center.routing.store import load_document, save_document
from contact_center.runtime import Database, open_database
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Case, Customer, Interaction, PhoneNumber, User
from tests.e2e.harness import free_port

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in Warsaw

RULES = """
queues:
  support-pl: {hours: {tue: "08:00-18:00"}, after_hours: voicemail}
rules:
  - name: cases
    when: {open_case: true}
    then: {queue: cases, reason: "Open case"}
  - name: key-account
    when: {account_manager: true}
    then: {queue: vip, preferred_agent: account_manager, reason: "Key account of {manager}"}
  - name: polish
    when: {language: pl}
    then: {queue: support-pl, preferred_agent: last_agent, last_agent_days: 30,
           overflow: {queue: overflow, waiting: 2}, reason: "Polish"}
"""


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with open_database(load_settings({}, database_url=database_url)) as db:
        await upgrade(db.engine)
        async with db.sessions() as session, session.begin():
            anna = User(
                username="anowak",
                display_name="Anna Nowak",
                role="agent",
                interface="PJSIP/agent-1001",
            )
            pawel = User(
                username="pwisniewski",
                display_name="Paweł Wiśniewski",
                role="agent",
                interface="PJSIP/agent-1002",
            )
            session.add_all([anna, pawel])
            await session.flush()
            plain = Customer(name="Ewa Jabłońska", language="pl", tags=[], notes="")
            managed = Customer(
                name="Jan Kowalski", language="pl", account_manager_id=anna.id, tags=[], notes=""
            )
            with_case = Customer(name="Олена Коваленко", language="uk", tags=[], notes="")
            session.add_all([plain, managed, with_case])
            await session.flush()
            session.add_all(
                [
                    PhoneNumber(customer_id=plain.id, e164="+48601000001"),
                    PhoneNumber(customer_id=managed.id, e164="+48601000002"),
                    PhoneNumber(customer_id=with_case.id, e164="+380501000003"),
                    Case(customer_id=with_case.id, subject="Broken router", status="open"),
                    Case(customer_id=plain.id, subject="Old question", status="closed"),
                    Interaction(
                        node="node1",
                        linkedid="old-1",
                        uniqueid="old-1",
                        customer_id=plain.id,
                        agent_id=pawel.id,
                        started_at=NOW - dt.timedelta(days=3),
                        outcome="answered",
                    ),
                ]
            )
            await save_document(session, await asyncio.to_thread(load_yaml, RULES))
        yield db


def router(db: Database, **settings: object) -> Router:
    return Router(db.sessions, load_settings({}, **settings), MemoryLiveState(), lambda: NOW)


async def test_rulebook_stored_and_read_back(database: Database) -> None:
    async with database.sessions() as session:
        document = await load_document(session)
    assert document is not None
    assert [rule.name for rule in document.rules] == ["cases", "key-account", "polish"]
    assert document.queues["support-pl"].after_hours == "voicemail"


async def test_known_customer_with_last_agent(database: Database) -> None:
    decision = await router(database).route("601 000 001")
    assert (decision.queue, decision.rule, decision.reason) == ("support-pl", "polish", "Polish")
    assert decision.preferred_agent == "PJSIP/agent-1002"  # spoke to Paweł 3 days ago


async def test_key_account_manager_from_the_database(database: Database) -> None:
    decision = await router(database).route("+48 601 000 002")
    assert (decision.queue, decision.preferred_agent) == ("vip", "PJSIP/agent-1001")
    assert decision.reason == "Key account of Anna Nowak"


async def test_open_case_counts_only_open_ones(database: Database) -> None:
    assert (await router(database).route("00380501000003")).queue == "cases"
    assert (await router(database).route("601000001")).queue != "cases"


async def test_overflow_reads_the_live_queue_load(database: Database) -> None:
    routing = router(database)
    live = routing._live
    assert isinstance(live, MemoryLiveState)
    await live.put_queues("node1", {"support-pl": QueueSnapshot(1, time.time() - 5)})
    await live.put_queues("node2", {"support-pl": QueueSnapshot(1, time.time() - 30)})
    decision = await routing.route("601000001")
    assert decision.queue == "overflow"
    assert "2 waiting, longest 30 s" in decision.reason


async def test_unknown_and_withheld(database: Database) -> None:
    assert (await router(database).route("+48601999999")).rule == "default"
    assert (await router(database).route("anonymous")).reason == "Number withheld"


async def test_an_empty_rulebook_uses_the_shipped_default(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    async with open_database(load_settings({}, database_url=url)) as db:
        await upgrade(db.engine)
        book = await router(db).rulebook()
    assert book.rules[0].name == "collections"


async def test_database_down_still_answers_in_time() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    async with open_database(load_settings({}, database_url=url)) as db:
        routing = router(db, agi_route_timeout=0.5)
        started = time.monotonic()
        decision = await routing.route("+48601000001")
    assert time.monotonic() - started < 1.0
    assert decision.queue == "main"
    assert decision.customer_id is None


async def test_an_edit_applies_after_the_cache_is_invalidated(database: Database) -> None:
    routing = router(database)
    assert (await routing.route("601000001")).queue == "support-pl"
    async with database.sessions() as session, session.begin():
        customer = await session.get_one(Customer, 1)
        customer.overdue_balance = Decimal("10")
        rules = "rules: [{name: dunning, when: {overdue: true}, then: {queue: collections}}]"
        await save_document(session, await asyncio.to_thread(load_yaml, rules))
    routing.invalidate()
    assert (await routing.route("601000001")).queue == "collections"
    await asyncio.sleep(0)


async def test_kept_fresh_an_edit_in_another_process_applies_without_a_call_reloading(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the bridge runs it: the refresher reads the rulebook twice per TTL, so a call never
    reloads it inline, and an edit made elsewhere (the web process) applies within the TTL."""
    monkeypatch.setattr(service, "RULEBOOK_TTL", 0.4)
    routing = router(database)
    refresher = asyncio.create_task(routing.keep_fresh())
    try:
        assert (await routing.route("601000001")).queue == "support-pl"
        reloads = 0
        original = routing.reload

        async def counting(*, only_if_stale: bool = False) -> object:
            nonlocal reloads
            if only_if_stale:
                reloads += 1
            return await original(only_if_stale=only_if_stale)

        monkeypatch.setattr(routing, "reload", counting)
        async with database.sessions() as session, session.begin():
            customer = await session.get_one(Customer, 1)
            customer.overdue_balance = Decimal("10")
            rules = "rules: [{name: dunning, when: {overdue: true}, then: {queue: collections}}]"
            await save_document(session, await asyncio.to_thread(load_yaml, rules))
        await asyncio.sleep(0.5)
        for _ in range(5):
            assert (await routing.route("601000001")).queue == "collections"
            await asyncio.sleep(0.1)
        assert reloads == 0  # no call waited for a reload
    finally:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


async def test_many_calls_at_once_read_the_rulebook_once(database: Database) -> None:
    routing = router(database)
    loads = 0
    original = routing._build

    async def counting(document: object) -> object:
        nonlocal loads
        loads += 1
        return await original(document)  # type: ignore[arg-type]

    routing._build = counting  # type: ignore[method-assign,assignment]
    decisions = await asyncio.gather(*(routing.route("601000001") for _ in range(20)))
    assert {d.queue for d in decisions} == {"support-pl"}
    assert loads == 1
