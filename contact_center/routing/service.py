"""Routing service: gather the facts about a call, then let the rulebook decide.

It always answers: if the database is slow or down, the call goes where the rules say an
unknown caller goes (the default queue unless a rule says otherwise).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy
from sqlalchemy import Select, bindparam, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from contact_center.bus import LiveState, QueueLoad
from contact_center.errors import BusUnavailable, RuleError
from contact_center.routing.numbers import normalize
from contact_center.routing.rulebook import RulebookDocument
from contact_center.routing.rules import (
    CallerRecord,
    CallFacts,
    RouteDecision,
    Rulebook,
    decide,
)
from contact_center.routing.store import default_document, load_document
from contact_center.settings import Settings
from contact_center.storage.db import sqlite_pragmas
from contact_center.storage.models import Case, Customer, Interaction, PhoneNumber, User

log = logging.getLogger(__name__)

RULEBOOK_TTL = 5.0
"""Seconds a process keeps the rulebook before reading it again: edits apply within this."""


def _lookup_statement() -> Select[tuple[Any, ...]]:
    manager = aliased(User)
    open_cases = (
        select(func.count(Case.id))
        .where(Case.customer_id == Customer.id, Case.status == "open")
        .scalar_subquery()
    )
    return (
        select(
            Customer.id,
            Customer.name,
            Customer.tier,
            Customer.language,
            Customer.overdue_balance,
            Customer.company,
            Customer.tags,
            open_cases,
            manager.display_name,
            manager.interface,
        )
        .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
        .outerjoin(manager, manager.id == Customer.account_manager_id)
        .where(PhoneNumber.e164 == bindparam("e164"))
        .order_by(Customer.id)
    )


LOOKUP = _lookup_statement()
"""Every customer of the number ``:e164``: built once, so a call only binds the number (and
the compiled form comes from the engine's statement cache)."""

LAST_AGENT = (
    select(User.display_name, User.interface, Interaction.started_at)
    .join(User, User.id == Interaction.agent_id)
    .where(Interaction.customer_id == bindparam("customer_id"))
    .order_by(Interaction.started_at.desc())
    .limit(1)
)
"""The agent who last answered the customer ``:customer_id``, and when: built once."""


def _records(rows: Iterable[Any]) -> list[CallerRecord]:
    return [
        CallerRecord(
            customer_id=row[0],
            name=row[1],
            tier=row[2],
            language=row[3],
            overdue_balance=row[4],
            company=row[5],
            tags=tuple(str(tag) for tag in row[6] or ()),
            open_cases=int(row[7] or 0),
            account_manager=row[8],
            account_manager_interface=row[9],
        )
        for row in rows
    ]


def _with_last(record: CallerRecord, row: Any) -> CallerRecord:
    if row is None:
        return record
    return CallerRecord(
        **{
            **{name: getattr(record, name) for name in CallerRecord.__slots__},
            "last_agent": row[0],
            "last_agent_interface": row[1],
            "last_contact_at": row[2],
        }
    )


async def lookup_caller(connection: AsyncConnection, e164: str) -> list[CallerRecord]:
    """Every customer the number belongs to (usually one), with what the rules look at."""
    return _records(await connection.execute(LOOKUP, {"e164": e164}))


class SqliteLookup:
    """The caller lookup on a SQLite file in one trip to a worker thread.

    aiosqlite makes a trip to its thread (and back) for every step of a query: cursor,
    execute, fetch, close, the pool's rollback. Each trip wakes a thread, which is what a
    decision waits for most when calls arrive one by one. Here a plain (pysqlite) engine on
    the same file does the whole lookup in one `asyncio.to_thread`."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="sqlite")
        self._engine = sqlalchemy.create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=4, max_overflow=4
        )
        event.listen(self._engine, "connect", sqlite_pragmas)

    @staticmethod
    def usable(database_url: str) -> bool:
        """A SQLite file (an in-memory database is not shared between connections)."""
        url = make_url(database_url)
        return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")

    def _lookup(self, e164: str, last_agent: bool) -> list[CallerRecord]:
        with self._engine.connect() as connection:
            records = _records(connection.execute(LOOKUP, {"e164": e164}))
            if last_agent:
                records = [
                    _with_last(
                        r, connection.execute(LAST_AGENT, {"customer_id": r.customer_id}).first()
                    )
                    for r in records
                ]
        return records

    async def callers(self, e164: str, *, last_agent: bool) -> list[CallerRecord]:
        return await asyncio.to_thread(self._lookup, e164, last_agent)

    async def close(self) -> None:
        await asyncio.to_thread(self._engine.dispose)


async def with_last_agent(connection: AsyncConnection, record: CallerRecord) -> CallerRecord:
    """The agent who last answered this customer, and when."""
    row = (await connection.execute(LAST_AGENT, {"customer_id": record.customer_id})).first()
    return _with_last(record, row)


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory is bound to (``session_factory(engine)`` binds one)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an AsyncEngine")
    return bind


class Router:
    """Decides where a call goes. One per process; its rulebook is a short-lived cache of
    the database's, so every process routes the same way within `RULEBOOK_TTL`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        live: LiveState | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)
        # The lookup is one read: on PostgreSQL it runs outside a transaction, so a decision
        # costs one round trip to the server instead of three (BEGIN, the query, ROLLBACK).
        self._lookup_engine = (
            self._engine.execution_options(isolation_level="AUTOCOMMIT")
            if self._engine.dialect.name == "postgresql"
            else self._engine
        )
        self._live = live
        self._clock = clock
        self._region = settings.default_region
        self._default_queue = settings.default_queue
        self._timezone = settings.timezone
        self._timeout = settings.agi_route_timeout * 0.6
        self._book: Rulebook | None = None
        self._document: RulebookDocument | None = None
        self._book_at = 0.0
        self._fallback: Rulebook | None = None
        self._reloading = asyncio.Lock()
        url = self._engine.url.render_as_string(hide_password=False)
        self._sqlite_url = url if SqliteLookup.usable(url) else None
        self._sqlite: SqliteLookup | None = None
        self._sqlite_opening = asyncio.Lock()

    async def _sqlite_lookup(self) -> SqliteLookup | None:
        if self._sqlite is None and self._sqlite_url is not None:
            async with self._sqlite_opening:
                if self._sqlite is None:  # making an engine looks at the file's path: a thread
                    self._sqlite = await asyncio.to_thread(SqliteLookup, self._sqlite_url)
        return self._sqlite

    async def aclose(self) -> None:
        """Close what the router opened of its own (the SQLite lookup's connections)."""
        if self._sqlite is not None:
            await self._sqlite.close()

    async def _build(self, document: RulebookDocument) -> Rulebook:
        # resolving time zones reads zoneinfo's files: off the event loop
        return await asyncio.to_thread(document.build, self._default_queue, self._timezone)

    async def rulebook(self) -> Rulebook:
        """The current rulebook: the database's, or the shipped default when it has none.

        With `keep_fresh` running (the bridge runs it) the cached one is always young enough
        and a call never waits for a reload; otherwise a stale cache is reloaded here."""
        if self._fresh():
            assert self._book is not None
            return self._book
        if self._reloading.locked() and self._book is not None:
            return self._book  # another call is reading it: this one keeps the last
        return await self.reload(only_if_stale=True)

    async def reload(self, *, only_if_stale: bool = False) -> Rulebook:
        """Read the rulebook from the database now; on failure keep the last one."""
        async with self._reloading:
            if only_if_stale and self._fresh():
                assert self._book is not None
                return self._book
            try:
                async with asyncio.timeout(self._timeout), self._sessions() as session:
                    document = await load_document(session) or await default_document()
                if self._book is None or document != self._document:
                    self._book = await self._build(document)
                    self._document = document
            except (TimeoutError, SQLAlchemyError, OSError, RuleError) as err:
                log.warning("cannot read the rulebook (%s): using the last one", err or "timeout")
                self._book = self._book or await self._fallback_book()
            self._book_at = time.monotonic()
            return self._book

    async def keep_fresh(self) -> None:
        """Reload the rulebook in the background, twice per `RULEBOOK_TTL`, so that calls
        never pay for a reload and an edit in another process applies within the TTL."""
        while True:
            try:
                await self.reload()
            except Exception:  # a bug here must not stop the bridge: calls reload inline
                log.exception("rulebook refresh failed")
            await asyncio.sleep(RULEBOOK_TTL / 2)

    def _fresh(self) -> bool:
        return self._book is not None and time.monotonic() - self._book_at < RULEBOOK_TTL

    async def _fallback_book(self) -> Rulebook:
        if self._fallback is None:
            self._fallback = await self._build(await default_document())
        return self._fallback

    def invalidate(self) -> None:
        """Forget the cached rulebook (after an edit in this process)."""
        self._book = None

    async def route(
        self,
        caller_raw: str,
        *,
        dialed: str = "",
        uniqueid: str = "",
        now: dt.datetime | None = None,
    ) -> RouteDecision:
        book = await self.rulebook()
        facts = await self.facts(book, caller_raw, dialed=dialed, uniqueid=uniqueid, now=now)
        return decide(book, facts)

    async def facts(
        self,
        book: Rulebook,
        caller_raw: str,
        *,
        dialed: str = "",
        uniqueid: str = "",
        now: dt.datetime | None = None,
    ) -> CallFacts:
        e164 = normalize(caller_raw, self._region)
        records: list[CallerRecord] = []
        if e164 is not None:
            try:
                last_agent = any(rule.then.preferred_agent == "last_agent" for rule in book.rules)
                async with asyncio.timeout(self._timeout):
                    sqlite = await self._sqlite_lookup()
                    if sqlite is not None:
                        records = await sqlite.callers(e164, last_agent=last_agent)
                    else:
                        async with self._lookup_engine.connect() as connection:
                            records = await lookup_caller(connection, e164)
                            if records and last_agent:
                                records = [await with_last_agent(connection, r) for r in records]
            except (TimeoutError, SQLAlchemyError, OSError) as err:
                log.warning(
                    "uniqueid=%s customer lookup failed (%s): routing as unknown",
                    uniqueid,
                    err or "timeout",
                )
        load: dict[str, QueueLoad] = {}
        if self._live is not None and any(rule.then.overflow for rule in book.rules):
            try:
                async with asyncio.timeout(self._timeout):
                    load = await self._live.queue_loads()
            except (TimeoutError, BusUnavailable) as err:
                log.warning("uniqueid=%s queue load unknown (%s)", uniqueid, err or "timeout")
        return CallFacts(
            caller_e164=e164,
            records=records,
            dialed=dialed,
            now=now or self._clock(),
            load=load,
        )
