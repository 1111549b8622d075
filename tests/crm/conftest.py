"""A migrated database (SQLite and PostgreSQL) with a few agents, queues and customers whose
every value is known, for the CRM service tests."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.settings import load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade
from contact_center.storage.models import (
    Case,
    Customer,
    Interaction,
    PhoneNumber,
    Queue,
    QueueMembership,
    User,
)

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Seed:
    """Ids of the rows every test starts with."""

    anna: int
    """Agent Anna Nowak, works support-pl."""
    olena: int
    """Agent Olena Kovalenko, works support-uk and support-pl."""
    retired: int
    """An inactive agent."""
    zaneta: int
    """Customer Żaneta Kowalska (VIP, Anna her manager, two numbers, two open cases)."""
    olha: int
    """Customer Ольга Шевченко (no number, no history)."""
    acme: int
    """Customer John Smith of ACME Widgets (one number)."""


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """Our engine and session factory on a migrated, empty database."""
    settings = load_settings({}, database_url=database_url)
    engine = await asyncio.to_thread(create_engine, settings)
    try:
        await upgrade(engine)
        yield Database(engine, session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def seed(database: Database) -> Seed:
    async with database.sessions() as session, session.begin():
        anna = User(
            username="anowak",
            display_name="Anna Nowak",
            role="agent",
            interface="PJSIP/agent-1001",
        )
        olena = User(
            username="okovalenko",
            display_name="Олена Коваленко",
            role="agent",
            interface="PJSIP/agent-1002",
        )
        retired = User(username="gone", display_name="Gone Agent", role="agent", active=False)
        pl = Queue(name="support-pl", display_name="Support PL")
        uk = Queue(name="support-uk", display_name="Support UK")
        session.add_all([anna, olena, retired, pl, uk])
        await session.flush()
        session.add_all(
            [
                QueueMembership(user_id=anna.id, queue_id=pl.id),
                QueueMembership(user_id=olena.id, queue_id=uk.id),
                QueueMembership(user_id=olena.id, queue_id=pl.id, penalty=1),
            ]
        )
        zaneta = Customer(
            name="Żaneta Kowalska",
            company=None,
            tier="vip",
            language="pl",
            account_manager_id=anna.id,
            tags=["vip", "wholesale"],
            notes="Prefers mornings",
            overdue_balance=Decimal("1234.50"),
        )
        olha = Customer(name="Ольга Шевченко", language="uk")
        acme = Customer(name="John Smith", company="ACME Widgets", language="en")
        session.add_all([zaneta, olha, acme])
        await session.flush()
        session.add_all(
            [
                PhoneNumber(customer_id=zaneta.id, e164="+48601234567", label="mobile"),
                PhoneNumber(customer_id=zaneta.id, e164="+48221234567", label="home"),
                PhoneNumber(customer_id=acme.id, e164="+447911123456", label="mobile"),
                Case(
                    customer_id=zaneta.id,
                    subject="Invoice 7/2026",
                    opened_at=NOW - dt.timedelta(days=3),
                ),
                Case(
                    customer_id=zaneta.id,
                    subject="Broken delivery",
                    opened_at=NOW - dt.timedelta(days=1),
                ),
                Case(
                    customer_id=zaneta.id,
                    subject="Old question",
                    status="closed",
                    opened_at=NOW - dt.timedelta(days=30),
                    closed_at=NOW - dt.timedelta(days=29),
                ),
            ]
        )
    return Seed(anna.id, olena.id, retired.id, zaneta.id, olha.id, acme.id)


def call(
    customer_id: int | None,
    started_at: dt.datetime,
    linkedid: str,
    *,
    agent_id: int | None = None,
    outcome: str = "answered",
    **values: object,
) -> Interaction:
    """A call as the bridge writes it (``values`` override the defaults)."""
    defaults: dict[str, object] = {
        "node": "node1",
        "linkedid": linkedid,
        "uniqueid": linkedid,
        "channel": "voice",
        "direction": "inbound",
        "customer_id": customer_id,
        "caller_number": "+48601234567",
        "caller_name": "",
        "dialed_number": "+48223950100",
        "queue": "support-pl",
        "agent_id": agent_id,
        "started_at": started_at,
        "outcome": outcome,
        "notes": "",
    }
    return Interaction(**(defaults | values))


class StatementCounter:
    """Counts the SQL statements an engine runs while it is on."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.statements: list[str] = []

    def _count(self, *args: object) -> None:
        self.statements.append(str(args[2]))

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
