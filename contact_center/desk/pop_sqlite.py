"""The screen pop on a SQLite file in one trip to a worker thread.

Loaded through aiosqlite, a pop's eight queries make some forty trips to aiosqlite's thread
(cursor, execute, fetch, close, each a thread to wake): under load that was most of the
pop's time (bench/screenpop). Here a plain (pysqlite) engine on the same file runs the same
statements as `contact_center.crm` (the card, the history, the open tasks) in one
`asyncio.to_thread`, as the routing lookup does (`routing.service.SqliteLookup`)."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy
from sqlalchemy import Connection, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.agents import codes
from contact_center.bus import AgentCall
from contact_center.crm import CustomerCard, HistoryEntry
from contact_center.crm.customers import CARD, _phones, card_of, open_cases
from contact_center.crm.history import ENTRIES
from contact_center.crm.tasks import open_tasks_statement, task_view
from contact_center.desk.pop import (
    CANDIDATES,
    HISTORY,
    Draft,
    Pop,
    PopCustomer,
    load_concurrently,
    ranked_for,
)
from contact_center.desk.visibility import customers_of_call
from contact_center.routing.service import SqliteLookup, engine_of
from contact_center.storage.db import session_factory, sqlite_pragmas
from contact_center.storage.models import AgentCode, CallNote, Customer, Interaction


class SqlitePops:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="sqlite")
        self._engine = sqlalchemy.create_engine(
            url, connect_args={"check_same_thread": False}, pool_size=4, max_overflow=4
        )
        event.listen(self._engine, "connect", sqlite_pragmas)

    async def load(self, call: AgentCall, user_id: int) -> Pop:
        return await asyncio.to_thread(self._load, call, user_id)

    async def close(self) -> None:
        await asyncio.to_thread(self._engine.dispose)

    def _load(self, call: AgentCall, user_id: int) -> Pop:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(CallNote.notes, CallNote.disposition, CallNote.customer_id).where(
                    CallNote.node == call.node,
                    CallNote.linkedid == call.linkedid,
                    CallNote.user_id == user_id,
                )
            ).first()
            draft = Draft() if row is None else Draft(row[0], row[1], row[2])
            order = ranked_for(customers_of_call(call), draft)
            customer = None
            if order:
                card = _card(connection, order[0])
                if card is not None:
                    customer = _with_history(connection, card)
            candidates = [
                card
                for card in (_card(connection, other) for other in order[1 : 1 + CANDIDATES])
                if card is not None
            ]
            dispositions = tuple(
                codes.Code(*r)
                for r in connection.execute(
                    select(
                        AgentCode.id,
                        AgentCode.kind,
                        AgentCode.code,
                        AgentCode.label,
                        AgentCode.position,
                        AgentCode.active,
                    )
                    .where(AgentCode.kind == codes.DISPOSITION, AgentCode.active)
                    .order_by(AgentCode.position, AgentCode.id)
                )
            )
        return Pop(
            node=call.node,
            linkedid=call.linkedid,
            number=call.caller_number,
            customer=customer,
            candidates=tuple(candidates),
            dispositions=dispositions,
            draft=draft,
        )


def _card(connection: Connection, customer_id: int) -> CustomerCard | None:
    """As `crm.customer_card` builds it, from the same statements."""
    row: Any = connection.execute(CARD.where(Customer.id == customer_id)).first()
    if row is None:
        return None
    phones = [row[1:] for row in connection.execute(_phones([customer_id]))]
    open_count = int(row[10] or 0)
    cases = list(connection.execute(open_cases(customer_id))) if open_count else []
    return card_of(row, phones, cases)


def _with_history(connection: Connection, card: CustomerCard) -> PopCustomer:
    """As `crm.contact_history` reads its first page, `HISTORY` entries long."""
    rows = connection.execute(
        ENTRIES.where(Interaction.customer_id == card.id)
        .order_by(Interaction.started_at.desc(), Interaction.id.desc())
        .limit(HISTORY + 1)
    ).all()
    tasks = tuple(task_view(r) for r in connection.execute(open_tasks_statement(card.id)))
    entries = tuple(HistoryEntry(*r) for r in rows[:HISTORY])
    return PopCustomer(card, entries, tasks, len(rows) > HISTORY)


class PopSource:
    """Where a web process loads pops from: in one thread trip on a SQLite file; else its
    reads side by side, each on a connection of its own in autocommit (PostgreSQL: no
    BEGIN and ROLLBACK round trips for these reads)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], sqlite: SqlitePops | None
    ) -> None:
        self._sessions = sessions
        self._sqlite = sqlite

    @classmethod
    async def open(cls, sessions: async_sessionmaker[AsyncSession]) -> PopSource:
        engine = engine_of(sessions)
        url = engine.url.render_as_string(hide_password=False)
        sqlite = None
        if SqliteLookup.usable(url):  # making an engine looks at the file's path: a thread
            sqlite = await asyncio.to_thread(SqlitePops, url)
        elif engine.dialect.name == "postgresql":
            sessions = session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))
        return cls(sessions, sqlite)

    async def load(self, call: AgentCall, user_id: int) -> Pop:
        if self._sqlite is not None:
            return await self._sqlite.load(call, user_id)
        return await load_concurrently(self._sessions, call, user_id)

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
