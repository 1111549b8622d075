"""Writing the demo data set into the database, in one transaction, with batched inserts."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.demo import people
from contact_center.demo.generate import generate_customers, generate_history
from contact_center.errors import StorageError
from contact_center.storage.models import (
    Customer,
    Interaction,
    InteractionEvent,
    PhoneNumber,
    Queue,
    QueueMembership,
    User,
)

log = logging.getLogger(__name__)


class DemoDataError(StorageError):
    """The demo data cannot go in: the database already holds other data."""


@dataclass(frozen=True)
class DemoSummary:
    """Rows in the database after loading (all rows, demo or not)."""

    customers: int
    phone_numbers: int
    users: int
    queues: int
    interactions: int


async def load_demo_data(
    sessions: async_sessionmaker[AsyncSession],
    *,
    customers: int = 300,
    days_of_history: int = 30,
    seed: int = 2026,
    now: dt.datetime | None = None,
    node: str = "node1",
    password_hash: str | None = None,
) -> DemoSummary:
    """Fill an empty database with demo queues, staff, customers and call history.

    Idempotent: when the demo staff are already there, nothing is written and the counts
    present are returned. Any other data (users, customers or interactions) raises
    `DemoDataError` rather than mixing demo rows into a real database. Existing queues with
    the demo names are reused, so queues synced from Asterisk do not get in the way.
    The same `seed` gives the same customers; the history also depends on `now`.
    `password_hash` (one argon2 hash, made once by the caller) is every demo user's password;
    demo users loaded earlier without a password get it too."""
    if customers < 0 or days_of_history < 0:
        raise ValueError("customers and days_of_history must not be negative")
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    demo_customers = generate_customers(customers, seed, today=now.date())
    calls = generate_history(demo_customers, days=days_of_history, seed=seed, now=now)

    try:
        async with sessions() as session, session.begin():
            if await _demo_present(session):
                log.info("demo data already loaded, nothing to do")
                if password_hash is not None:
                    await _set_missing_passwords(session, password_hash)
                return await _summary(session)
            queue_ids = await _queues(session)
            user_ids = await _users(session, queue_ids, password_hash)
            customer_ids = await _ids(
                session,
                Customer,
                [
                    {
                        "name": c.name,
                        "company": c.company,
                        "tier": c.tier,
                        "language": c.language,
                        "account_manager_id": user_ids.get(c.account_manager or ""),
                        "tags": list(c.tags),
                        "notes": c.notes,
                        "overdue_balance": c.overdue_balance,
                        "created_at": c.created_at,
                        "updated_at": c.created_at,
                    }
                    for c in demo_customers
                ],
            )
            phones = [
                {"customer_id": customer_id, "e164": p.e164, "label": p.label}
                for customer_id, c in zip(customer_ids, demo_customers, strict=True)
                for p in c.phones
            ]
            if phones:
                await session.execute(_bulk(PhoneNumber), phones)
            interaction_ids = await _ids(
                session,
                Interaction,
                [
                    {
                        "node": node,
                        "linkedid": call.linkedid,
                        "uniqueid": call.linkedid,
                        "channel": "voice",
                        "direction": "inbound",
                        "customer_id": None
                        if call.customer is None
                        else customer_ids[call.customer],
                        "caller_number": call.caller_number,
                        "caller_name": call.caller_name,
                        "dialed_number": call.dialed_number,
                        "queue": call.queue,
                        "agent_id": user_ids[call.agent] if call.agent else None,
                        "agent_interface": call.agent_interface,
                        "route_rule": call.route_rule,
                        "route_reason": call.route_reason,
                        "started_at": call.started_at,
                        "answered_at": call.answered_at,
                        "ended_at": call.ended_at,
                        "wait_seconds": call.wait_seconds,
                        "talk_seconds": call.talk_seconds,
                        "outcome": call.outcome,
                        "hangup_by": call.hangup_by,
                        "disposition": call.disposition,
                        "notes": call.notes,
                    }
                    for call in calls
                ],
            )
            events = [
                {
                    "interaction_id": interaction_id,
                    "seq": seq,
                    "at": event.at,
                    "kind": event.kind,
                    "queue": event.queue,
                    "agent_interface": event.agent_interface,
                    "detail": event.detail,
                }
                for interaction_id, call in zip(interaction_ids, calls, strict=True)
                for seq, event in enumerate(call.events, start=1)
            ]
            if events:
                await session.execute(_bulk(InteractionEvent), events)
            summary = await _summary(session)
    except IntegrityError as err:
        raise DemoDataError(
            "demo data conflicts with rows written meanwhile (another loader?)"
        ) from err
    log.info(
        "demo data loaded: %d customers, %d numbers, %d users, %d queues, %d interactions",
        summary.customers,
        summary.phone_numbers,
        summary.users,
        summary.queues,
        summary.interactions,
    )
    return summary


def _bulk(model: type[Any]) -> Insert:
    """An ORM bulk INSERT that keeps None values in, so every row has the same columns and
    SQLAlchemy sends one multi-row statement per batch instead of one per distinct shape."""
    return insert(model).execution_options(render_nulls=True)


async def _ids(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` in batches and return their new ids, in the order of `rows`."""
    if not rows:
        return []
    statement = _bulk(model).returning(model.id, sort_by_parameter_order=True)
    result = await session.scalars(statement, rows)
    return list(result.all())


async def _demo_present(session: AsyncSession) -> bool:
    """True if the demo staff are all there; DemoDataError if the database holds other data."""
    usernames = [u.username for u in people.USERS]
    present = set(
        (await session.scalars(select(User.username).where(User.username.in_(usernames)))).all()
    )
    if len(present) == len(usernames):
        return True
    if present:
        raise DemoDataError(
            f"the database holds some demo users ({', '.join(sorted(present))}) but not all; "
            "load the demo data into an empty database"
        )
    counts = {
        "users": await _count(session, User),
        "customers": await _count(session, Customer),
        "interactions": await _count(session, Interaction),
    }
    if any(counts.values()):
        found = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
        raise DemoDataError(
            f"the database is not empty ({found}); demo data loads only into an empty database"
        )
    return False


async def _queues(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Queue.name, Queue.id))
    existing = {name: queue_id for name, queue_id in rows}
    missing = [q for q in people.QUEUES if q.name not in existing]
    ids = await _ids(
        session,
        Queue,
        [
            {
                "name": q.name,
                "display_name": q.display_name,
                "service_level_seconds": q.service_level_seconds,
            }
            for q in missing
        ],
    )
    existing.update((q.name, queue_id) for q, queue_id in zip(missing, ids, strict=True))
    return existing


async def _users(
    session: AsyncSession, queue_ids: dict[str, int], password_hash: str | None
) -> dict[str, int]:
    ids = await _ids(
        session,
        User,
        [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "interface": u.interface,
                "language": u.language,
                "password_hash": password_hash,
                "active": True,
            }
            for u in people.USERS
        ],
    )
    user_ids = {u.username: user_id for u, user_id in zip(people.USERS, ids, strict=True)}
    await session.execute(
        _bulk(QueueMembership),
        [
            {"user_id": user_ids[u.username], "queue_id": queue_ids[queue], "penalty": penalty}
            for u in people.USERS
            for queue, penalty in u.queues
        ],
    )
    return user_ids


async def _set_missing_passwords(session: AsyncSession, password_hash: str) -> None:
    await session.execute(
        update(User)
        .where(User.username.in_([u.username for u in people.USERS]))
        .where(User.password_hash.is_(None))
        .values(password_hash=password_hash)
    )


async def _count(session: AsyncSession, model: type[Any]) -> int:
    return (await session.scalar(select(func.count()).select_from(model))) or 0


async def _summary(session: AsyncSession) -> DemoSummary:
    return DemoSummary(
        customers=await _count(session, Customer),
        phone_numbers=await _count(session, PhoneNumber),
        users=await _count(session, User),
        queues=await _count(session, Queue),
        interactions=await _count(session, Interaction),
    )


async def demo_callers(
    sessions: async_sessionmaker[AsyncSession], limit: int
) -> list[tuple[str, str]]:
    """Up to `limit` (e164, customer name) pairs for a traffic generator to call in as known
    customers: one number per customer, in customer order, never a number that several
    customers share (those would not identify the caller)."""
    shared = (
        select(PhoneNumber.e164)
        .group_by(PhoneNumber.e164)
        .having(func.count(func.distinct(PhoneNumber.customer_id)) > 1)
    )
    first_number = (
        select(func.min(PhoneNumber.id))
        .where(PhoneNumber.e164.not_in(shared))
        .group_by(PhoneNumber.customer_id)
    )
    statement = (
        select(PhoneNumber.e164, Customer.name)
        .join(Customer, Customer.id == PhoneNumber.customer_id)
        .where(PhoneNumber.id.in_(first_number))
        .order_by(Customer.id)
        .limit(limit)
    )
    async with sessions() as session:
        return [(e164, name) for e164, name in await session.execute(statement)]
