"""The demo data set: realistic, valid, deterministic, idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.demo import (
    DEMO_AGENT_INTERFACES,
    DemoDataError,
    DemoSummary,
    demo_callers,
    demo_numbers,
    load_demo_data,
)
from contact_center.demo.people import transliterate_uk
from contact_center.settings import Settings
from contact_center.storage.db import create_engine, session_factory, upgrade
from contact_center.storage.models import (
    Customer,
    Interaction,
    InteractionEvent,
    PhoneNumber,
    Queue,
    QueueMembership,
    User,
)
from tests.pg import temporary_postgres_database

NOW = dt.datetime(2026, 3, 12, 15, 30, tzinfo=dt.UTC)
POLISH_LETTERS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")

Sessions = async_sessionmaker[AsyncSession]


async def _engine(url: str) -> AsyncEngine:
    engine = await asyncio.to_thread(create_engine, Settings(database_url=url))
    await upgrade(engine)
    return engine


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine = await _engine(f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}")
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def loaded(sessions: Sessions) -> tuple[Sessions, DemoSummary]:
    return sessions, await load_demo_data(sessions, now=NOW)


async def _count(sessions: Sessions, model: type[object]) -> int:
    async with sessions() as session:
        return (await session.scalar(select(func.count()).select_from(model))) or 0


async def _summary_in_db(sessions: Sessions) -> DemoSummary:
    return DemoSummary(
        customers=await _count(sessions, Customer),
        phone_numbers=await _count(sessions, PhoneNumber),
        users=await _count(sessions, User),
        queues=await _count(sessions, Queue),
        interactions=await _count(sessions, Interaction),
    )


async def test_300_customers_load_fast_and_the_summary_matches_the_database(
    sessions: Sessions,
) -> None:
    started = time.perf_counter()
    summary = await load_demo_data(sessions, now=NOW)
    elapsed = time.perf_counter() - started

    assert elapsed < 5.0
    assert summary == await _summary_in_db(sessions)
    assert summary.customers == 300
    assert summary.users == 9
    assert summary.queues == 7
    assert 300 <= summary.phone_numbers <= 600
    assert 2 * 300 <= summary.interactions <= 3.5 * 300


async def test_staff_queues_and_memberships(loaded: tuple[Sessions, DemoSummary]) -> None:
    sessions, _ = loaded
    async with sessions() as session:
        users = (await session.scalars(select(User).order_by(User.id))).all()
        queues = {q.name: q for q in (await session.scalars(select(Queue))).all()}
        memberships = (
            await session.execute(
                select(User.username, Queue.name)
                .join(QueueMembership, QueueMembership.user_id == User.id)
                .join(Queue, Queue.id == QueueMembership.queue_id)
            )
        ).all()

    agents = [u for u in users if u.role == "agent"]
    assert tuple(a.interface for a in agents) == DEMO_AGENT_INTERFACES
    assert tuple(f"PJSIP/agent-{n}" for n in range(1001, 1007)) == DEMO_AGENT_INTERFACES
    assert Counter(u.role for u in users) == {"agent": 6, "supervisor": 2, "admin": 1}
    assert all(u.interface is None for u in users if u.role != "agent")
    assert all(u.password_hash is None for u in users)
    assert "admin" in {u.username for u in users}
    assert not any(u.username.startswith("agent-") for u in users)
    assert {a.language for a in agents} == {"pl", "uk", "en"}

    assert queues["vip"].service_level_seconds == 10
    assert queues["support-uk"].display_name == "Підтримка UA"
    assert {q.service_level_seconds for n, q in queues.items() if n != "vip"} == {20}

    by_agent: dict[str, set[str]] = {}
    for username, queue in memberships:
        by_agent.setdefault(username, set()).add(queue)
    for agent in agents:
        assert {f"support-{agent.language}", "main", "overflow"} <= by_agent[agent.username]
    seniors = [name for name, qs in by_agent.items() if {"vip", "collections"} <= qs]
    assert len(seniors) == 2


async def test_every_number_is_valid_e164_and_some_are_shared(
    loaded: tuple[Sessions, DemoSummary],
) -> None:
    sessions, _ = loaded
    async with sessions() as session:
        rows = (await session.execute(select(PhoneNumber.e164, PhoneNumber.customer_id))).all()
        companies = {
            customer_id: company
            for customer_id, company in await session.execute(select(Customer.id, Customer.company))
        }

    per_customer = Counter(customer_id for _, customer_id in rows)
    assert set(per_customer.values()) <= {1, 2}
    assert len(per_customer) == 300
    regions = set()
    for e164, _ in rows:
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(parsed), e164
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
        regions.add(phonenumbers.region_code_for_number(parsed))
    assert {"PL", "UA", "GB"} <= regions

    owners: dict[str, list[int]] = {}
    for e164, customer_id in rows:
        owners.setdefault(e164, []).append(customer_id)
    shared = {e164: ids for e164, ids in owners.items() if len(ids) > 1}
    assert 2 <= len(shared) <= 3
    for ids in shared.values():
        assert len(ids) == 2
        assert companies[ids[0]] is not None
        assert companies[ids[0]] == companies[ids[1]]


async def test_names_have_polish_diacritics_and_cyrillic(
    loaded: tuple[Sessions, DemoSummary],
) -> None:
    sessions, _ = loaded
    async with sessions() as session:
        rows = (await session.execute(select(Customer.name, Customer.language))).all()
        companies = set((await session.scalars(select(Customer.company))).all())
        users = set((await session.scalars(select(User.display_name))).all())

    names = [name for name, _ in rows]
    assert any(POLISH_LETTERS & set(name) for name in names)
    assert any(CYRILLIC.search(name) for name in names)
    ukrainian = [name for name, language in rows if language == "uk"]
    latin_ukrainian = [name for name in ukrainian if not CYRILLIC.search(name)]
    assert 0 < len(latin_ukrainian) < len(ukrainian) / 2
    assert any(name.endswith(("ska", "cka")) for name, language in rows if language == "pl")
    languages = Counter(language for _, language in rows)
    assert 0.35 < languages["pl"] / 300 < 0.55
    assert 0.2 < languages["uk"] / 300 < 0.4
    assert 0.15 < languages["en"] / 300 < 0.35
    assert any(c and CYRILLIC.search(c) for c in companies)
    assert any(c and POLISH_LETTERS & set(c) for c in companies)
    assert {"Paweł Wiśniewski", "Олена Коваленко", "Andrii Shevchenko"} <= users


async def test_customer_attributes_are_plausible(loaded: tuple[Sessions, DemoSummary]) -> None:
    sessions, _ = loaded
    async with sessions() as session:
        balances = (await session.scalars(select(Customer.overdue_balance))).all()
        rows = (
            await session.execute(
                select(
                    Customer.tier, Customer.company, Customer.tags, User.role, User.language
                ).outerjoin(User, User.id == Customer.account_manager_id)
            )
        ).all()
    tiers = Counter(row.tier for row in rows)
    assert 0.03 < tiers["vip"] / 300 < 0.15
    overdue = [amount for amount in balances if amount > 0]
    assert 0.02 < len(overdue) / 300 < 0.13
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in overdue)
    assert 0.2 < sum(1 for row in rows if row.company) / 300 < 0.4
    vips = [row for row in rows if row.tier == "vip"]
    assert sum(1 for row in vips if row.role) > len(vips) / 2
    assert {row.role for row in rows if row.role} == {"agent"}
    assert all(("b2b" in row.tags) == bool(row.company) for row in rows)


async def test_interactions_and_events_are_consistent(
    loaded: tuple[Sessions, DemoSummary],
) -> None:
    sessions, _ = loaded
    async with sessions() as session:
        calls = (await session.scalars(select(Interaction))).all()
        events = (
            await session.scalars(
                select(InteractionEvent).order_by(
                    InteractionEvent.interaction_id, InteractionEvent.seq
                )
            )
        ).all()
        members = {
            (user_id, queue)
            for user_id, queue in await session.execute(
                select(QueueMembership.user_id, Queue.name).join(
                    Queue, Queue.id == QueueMembership.queue_id
                )
            )
        }
        customer_tiers = {
            customer_id: tier
            for customer_id, tier in await session.execute(select(Customer.id, Customer.tier))
        }

    by_call: dict[int, list[InteractionEvent]] = {}
    for event in events:
        by_call.setdefault(event.interaction_id, []).append(event)
    assert len({(c.node, c.linkedid) for c in calls}) == len(calls)
    outcomes = Counter(c.outcome for c in calls)
    assert set(outcomes) == {"answered", "abandoned", "timeout"}
    assert 0.75 < outcomes["answered"] / len(calls) < 0.93
    earliest = NOW - dt.timedelta(days=30)
    weekdays = Counter(c.started_at.weekday() for c in calls)
    assert weekdays[6] < weekdays[0] / 4

    for call in calls:
        assert call.node == "node1"
        assert call.uniqueid == call.linkedid
        assert re.fullmatch(r"\d{10}\.\d+", call.linkedid)
        assert call.route_rule
        assert call.route_reason
        assert call.ended_at is not None
        assert earliest <= call.started_at < NOW
        assert call.wait_seconds is not None
        if call.outcome == "answered":
            assert call.answered_at is not None
            assert call.talk_seconds is not None
            assert call.started_at <= call.answered_at <= call.ended_at
            wait = (call.answered_at - call.started_at).total_seconds()
            talk = (call.ended_at - call.answered_at).total_seconds()
            assert call.wait_seconds == pytest.approx(wait, abs=0.002)
            assert call.talk_seconds == pytest.approx(talk, abs=0.002)
            assert 2 <= call.wait_seconds <= 120
            assert 30 <= call.talk_seconds <= 900
            assert call.agent_id is not None
            assert (call.agent_id, call.queue) in members
            assert call.agent_interface in DEMO_AGENT_INTERFACES
            assert call.disposition in {
                "resolved", "callback-needed", "sale", "complaint", "information"
            }  # fmt: skip
        else:
            assert call.agent_id is None
            assert call.agent_interface is None
            assert call.answered_at is None
            assert call.talk_seconds is None
            assert call.started_at <= call.ended_at
            wait = (call.ended_at - call.started_at).total_seconds()
            assert call.wait_seconds == pytest.approx(wait, abs=0.002)
        if call.customer_id is not None and customer_tiers[call.customer_id] == "vip":
            assert (call.queue, call.route_rule) == ("vip", "vip")
        if call.customer_id is None:
            assert call.queue == "main"

        steps = by_call[call.id]
        assert [e.seq for e in steps] == list(range(1, len(steps) + 1))
        kinds = [e.kind for e in steps]
        assert kinds[:3] == ["arrived", "routed", "queued"]
        assert kinds[-1] == "hangup"
        if call.outcome == "answered":
            assert kinds[3:] == ["ringing", "connected", "completed", "hangup"]
            connected = steps[4]
            assert connected.at == call.answered_at
            assert connected.agent_interface == call.agent_interface
        else:
            assert kinds[-2] == call.outcome
            assert kinds[3:-2] in ([], ["ringing"])
        assert steps[0].at == call.started_at
        assert steps[-1].at == call.ended_at
        assert all(a.at <= b.at for a, b in itertools.pairwise(steps))
        for event in steps:
            assert event.agent_interface is None or event.agent_interface in DEMO_AGENT_INTERFACES


async def test_same_seed_same_customers(tmp_path: Path) -> None:
    names = []
    for run, seed in enumerate((7, 7, 8)):
        engine = await _engine(f"sqlite+aiosqlite:///{tmp_path / f'{run}.sqlite3'}")
        try:
            sessions = session_factory(engine)
            await load_demo_data(sessions, customers=40, days_of_history=5, seed=seed, now=NOW)
            async with sessions() as session:
                rows = await session.execute(
                    select(Customer.name, PhoneNumber.e164)
                    .join(PhoneNumber)
                    .order_by(Customer.id, PhoneNumber.id)
                )
                names.append(rows.all())
        finally:
            await engine.dispose()
    assert names[0] == names[1]
    assert names[0] != names[2]


async def test_loading_twice_changes_nothing(loaded: tuple[Sessions, DemoSummary]) -> None:
    sessions, first = loaded
    again = await load_demo_data(sessions, customers=10, seed=99, now=NOW)
    assert again == first
    assert await _summary_in_db(sessions) == first


async def test_a_database_with_other_data_is_refused(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        session.add(Customer(name="Real Customer"))
    with pytest.raises(DemoDataError, match="not empty"):
        await load_demo_data(sessions, now=NOW)
    assert await _count(sessions, User) == 0


async def test_existing_queues_are_reused(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        session.add(Queue(name="main", display_name="Linia ogólna"))
    summary = await load_demo_data(sessions, customers=20, days_of_history=3, now=NOW)
    assert summary.queues == 7
    async with sessions() as session:
        name = await session.scalar(select(Queue.display_name).where(Queue.name == "main"))
    assert name == "Linia ogólna"


async def test_demo_callers_are_unambiguous_known_customers(
    loaded: tuple[Sessions, DemoSummary],
) -> None:
    sessions, _ = loaded
    callers = await demo_callers(sessions, 500)
    async with sessions() as session:
        owners = (
            await session.execute(select(PhoneNumber.e164, Customer.name).join(Customer))
        ).all()
    names_by_number: dict[str, set[str]] = {}
    for e164, name in owners:
        names_by_number.setdefault(e164, set()).add(name)

    assert any(len(names) > 1 for names in names_by_number.values())
    assert len(callers) == 300  # every customer has a number of their own
    assert len({e164 for e164, _ in callers}) == len(callers)
    for e164, name in callers:
        assert names_by_number[e164] == {name}
    assert await demo_callers(sessions, 5) == callers[:5]


def test_demo_numbers_are_valid_distinct_and_deterministic() -> None:
    numbers = demo_numbers("UA", 50, seed=1)
    assert numbers == demo_numbers("UA", 50, seed=1)
    assert len(set(numbers)) == 50
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in numbers)
    assert all(n.startswith("+380") for n in numbers)
    fresh = demo_numbers("UA", 50, seed=1, exclude=frozenset(numbers[:10]))
    assert not set(fresh) & set(numbers[:10])
    landlines = demo_numbers("PL", 5, kind="landline")
    assert all(
        phonenumbers.number_type(phonenumbers.parse(n)) == phonenumbers.PhoneNumberType.FIXED_LINE
        for n in landlines
    )
    with pytest.raises(ValueError, match="XX"):
        demo_numbers("XX", 1)


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Олена Коваленко", "Olena Kovalenko"),
        ("Андрій Шевченко", "Andrii Shevchenko"),
        ("Юрій Яковенко", "Yurii Yakovenko"),
        ("Євгенія Щербак", "Yevheniia Shcherbak"),
        ("Згурський", "Zghurskyi"),
    ],
)
def test_ukrainian_transliteration(cyrillic: str, latin: str) -> None:
    assert transliterate_uk(cyrillic) == latin


@pytest.mark.postgres
async def test_loads_into_postgresql() -> None:
    async with temporary_postgres_database() as url:
        engine = await _engine(url)
        try:
            sessions = session_factory(engine)
            summary = await load_demo_data(sessions, customers=120, now=NOW)
            assert summary.customers == 120
            assert summary == await _summary_in_db(sessions)
            assert await load_demo_data(sessions, customers=120, now=NOW) == summary
            async with sessions() as session:
                events = await session.scalar(select(func.count()).select_from(InteractionEvent))
                overdue = (
                    await session.scalars(
                        select(Customer.overdue_balance).where(Customer.overdue_balance > 0)
                    )
                ).all()
            assert events is not None
            assert events >= 5 * summary.interactions
            assert overdue
            assert all(amount.as_tuple().exponent == -2 for amount in overdue)
            assert len(await demo_callers(sessions, 10)) == 10
        finally:
            await engine.dispose()
