"""The history benchmark: what the screen pop reads (customer card, contact history), the
desktop's search and the due tasks, against a large customer base, on SQLite and PostgreSQL.

Every figure is one request as the agent desktop makes it: a session from our session
factory over our engine, the real ``contact_center.crm`` function, the result in hand; one
request at a time, warm-up requests not counted. Each history page is checked against the
data set (it must hold min(limit, the customer's contacts) entries, newest first).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import platform
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import sqlalchemy
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    percentile,
    postgres_database,
    schema_head,
    summary,
)
from bench.history import dataset
from contact_center.crm import contact_history, customer_card, due_tasks, find_customers
from contact_center.settings import load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade
from contact_center.storage.models import Customer, Interaction, PhoneNumber

CACHE_DIR = Path("var/bench")
LIMIT = 50
HEAVY = 200
"""Not in our schema: made for one line of figures, then dropped."""


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    customers: int
    interactions: int
    samples: int
    searches: int
    warmup: int
    seed: int
    cache_dir: Path
    out: Callable[[str], None] = print


Request = Callable[[AsyncSession, int], Awaitable[Any]]


def environment_line(postgres_version: str | None) -> str:
    parts = [
        f"{os.cpu_count()} CPUs",
        f"{platform.python_implementation()} {platform.python_version()}",
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"SQLite {sqlite3.sqlite_version} (aiosqlite {aiosqlite.__version__})",
        f"asyncpg {asyncpg.__version__}",
    ]
    if postgres_version:
        parts.append(postgres_version)
    return "environment: " + ", ".join(parts)


async def timed(
    sessions: async_sessionmaker[AsyncSession],
    request: Request,
    arguments: Sequence[int],
    warmup: int,
) -> tuple[list[float], list[Any]]:
    """Latency in microseconds of each request (a fresh session each), and the results."""
    latencies: list[float] = []
    results: list[Any] = []
    for n, argument in enumerate(arguments):
        start = time.perf_counter_ns()
        async with sessions() as session:
            result = await request(session, argument)
        elapsed = (time.perf_counter_ns() - start) / 1000
        if n >= warmup:
            latencies.append(elapsed)
            results.append((argument, result))
    return latencies, results


async def contacts_per_customer(engine: AsyncEngine) -> dict[int, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(Interaction.customer_id, func.count())
            .where(Interaction.customer_id.is_not(None))
            .group_by(Interaction.customer_id)
        )
        return {int(customer or 0): int(count) for customer, count in rows}


async def search_terms(
    engine: AsyncEngine, customers: int, count: int, seed: int
) -> dict[str, list[str]]:
    """What agents type, ``count`` of each: whole numbers (Polish ones in national form), a
    part of a number, the start of a surname (ASCII; and non-ASCII: Cyrillic or Polish
    letters), from random customers."""
    rng = random.Random(f"bench-history-search:{seed}")
    terms: dict[str, list[str]] = {
        "by number": [],
        "by part of a number (6 digits)": [],
        "by name, ASCII": [],
        "by name, non-ASCII": [],
    }
    statement = (
        select(Customer.id, Customer.name, func.min(PhoneNumber.e164))
        .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
        .group_by(Customer.id, Customer.name)
    )
    async with engine.connect() as connection:
        for _ in range(50):
            if all(len(found) >= count for found in terms.values()):
                break
            ids = [rng.randint(1, customers) for _ in range(max(count, 100))]
            rows = dict(
                (ident, (name, number))
                for ident, name, number in await connection.execute(
                    statement.where(Customer.id.in_(set(ids)))
                )
            )
            for ident in ids:
                name, number = rows[ident]
                national = number[3:] if number.startswith("+48") else ""
                typed = f"{national[:3]} {national[3:6]} {national[6:]}" if national else number
                surname = name.split()[-1][:5].upper()
                for what, term in (
                    ("by number", typed),
                    ("by part of a number (6 digits)", number[-6:]),
                    ("by name, ASCII" if surname.isascii() else "by name, non-ASCII", surname),
                ):
                    if len(terms[what]) < count:
                        terms[what].append(term)
    return terms


def line(label: str, what: str, latencies: Sequence[float], extra: str = "") -> str:
    return f"[{label}] {what}: n={len(latencies)} {summary(latencies)}{extra}"


def check_pages(results: Sequence[Any], contacts: dict[int, int], skip: int = 0) -> int:
    """Each page holds what the data set says, newest first; returns the entries seen."""
    seen = 0
    for customer, page in results:
        expected = max(0, min(LIMIT, contacts.get(customer, 0) - skip))
        entries = page.entries if hasattr(page, "entries") else page[1].entries
        if len(entries) != expected:
            raise AssertionError(
                f"customer {customer}: {len(entries)} entries, {expected} expected"
            )
        keys = [(e.started_at, e.id) for e in entries]
        if keys != sorted(keys, reverse=True):
            raise AssertionError(f"customer {customer}: history not newest first")
        seen += len(entries)
    return seen


async def measure(label: str, url: str, options: Options) -> None:
    out = options.out
    settings = load_settings({}, database_url=url)
    engine = await asyncio.to_thread(create_engine, settings)
    sessions = session_factory(engine)
    try:
        contacts = await contacts_per_customer(engine)
        heavy = sorted(c for c, n in contacts.items() if n >= HEAVY)
        counts = [contacts.get(c, 0) for c in range(1, options.customers + 1)]
        out(
            f"[{label}] contacts per customer: {dataset.spread(counts)}; "
            f"{len(heavy):,} customers with >= {HEAVY}; "
            f"{sum(1 for n in counts if n == 0):,} with none"
        )
        rng = random.Random(f"bench-history-sample:{options.seed}")
        total = options.samples + options.warmup
        anyone = [rng.randint(1, options.customers) for _ in range(total)]
        many = [rng.choice(heavy) for _ in range(total)] if heavy else []
        warm = options.warmup

        async def card(session: AsyncSession, customer: int) -> Any:
            return await customer_card(session, customer)

        async def history(session: AsyncSession, customer: int) -> Any:
            return await contact_history(session, customer, limit=LIMIT)

        async def pop(session: AsyncSession, customer: int) -> Any:
            return await customer_card(session, customer), await contact_history(
                session, customer, limit=LIMIT
            )

        latencies, results = await timed(sessions, card, anyone, warm)
        phones = sum(len(c.phone_numbers) for _, c in results)
        if phones != 2 * len(results):
            raise AssertionError("every customer of the data set has 2 numbers")
        out(line(label, "customer_card, random customers", latencies))
        latencies, results = await timed(sessions, history, anyone, warm)
        seen = check_pages(results, contacts)
        out(
            line(
                label,
                f"contact_history limit {LIMIT}, random customers",
                latencies,
                f" entries_per_page={seen / max(len(results), 1):.1f}",
            )
        )
        latencies, results = await timed(sessions, pop, anyone, warm)
        check_pages(results, contacts)
        pop_random = latencies
        out(
            line(
                label,
                f"screen pop (card + history limit {LIMIT}, one session), random customers",
                latencies,
            )
        )
        if many:
            latencies, results = await timed(sessions, history, many, warm)
            check_pages(results, contacts)
            out(
                line(
                    label,
                    f"contact_history limit {LIMIT}, customers with >= {HEAVY} contacts",
                    latencies,
                )
            )
            cursors = {customer: page.next_before for customer, page in results}

            async def next_page(session: AsyncSession, customer: int) -> Any:
                return await contact_history(
                    session, customer, limit=LIMIT, before=cursors[customer]
                )

            following = [c for c in many[warm:] if cursors.get(c) is not None]
            latencies, results = await timed(sessions, next_page, following, 0)
            check_pages(results, contacts, skip=LIMIT)
            out(
                line(
                    label,
                    f"contact_history page 2 (before=cursor), customers with >= {HEAVY}",
                    latencies,
                )
            )
            latencies, _ = await timed(sessions, pop, many, warm)
            out(line(label, f"screen pop, customers with >= {HEAVY} contacts", latencies))

        search_warmup = min(options.warmup, 10)
        terms = await search_terms(
            engine, options.customers, options.searches + search_warmup, options.seed
        )
        for what, typed in terms.items():

            async def search(session: AsyncSession, n: int, typed: list[str] = typed) -> Any:
                return await find_customers(session, typed[n], 20, region=settings.default_region)

            latencies, results = await timed(sessions, search, range(len(typed)), search_warmup)
            found_any = sum(1 for _, found in results if found)
            out(
                line(
                    label, f"find_customers {what}", latencies, f" found={found_any}/{len(results)}"
                )
            )

        async with engine.connect() as connection:
            # the data set's "now": its last interaction (tasks fall due around it)
            dataset_now = await connection.scalar(select(func.max(Interaction.started_at)))
        if dataset_now is None:
            raise AssertionError("the data set has no interactions")

        async def due(session: AsyncSession, agent: int) -> Any:
            return await due_tasks(session, agent, dataset_now)

        agents = [1 + n % 40 for n in range(options.samples + options.warmup)]
        latencies, results = await timed(sessions, due, agents, warm)
        per_agent = sum(len(r) for _, r in results) / max(len(results), 1)
        out(line(label, "due_tasks of an agent", latencies, f" tasks_per_call={per_agent:.1f}"))

        p99 = percentile(sorted(pop_random), 0.99) / 1000
        out(
            f"[{label}] screen pop p99 {p99:.2f} ms for random customers "
            f"({len(pop_random)} requests)"
        )
    finally:
        await engine.dispose()


async def sqlite_dataset(options: Options) -> str:
    """The cached SQLite file (built when absent); its name carries the schema revision."""
    revision = await asyncio.to_thread(schema_head)
    name = (
        f"history-{options.customers}-{options.interactions}-seed{options.seed}"
        f"-schema{revision}.sqlite3"
    )
    path = options.cache_dir / name
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        stats = json.loads(await asyncio.to_thread(meta.read_text, encoding="utf-8"))
        options.out(
            f"[sqlite] data set: cached {path} ({stats['rows']:,} rows, built in "
            f"{stats['seconds']:.1f} s)"
        )
    else:
        await asyncio.to_thread(options.cache_dir.mkdir, parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            await asyncio.to_thread(leftover.unlink, missing_ok=True)
        engine = await asyncio.to_thread(
            create_engine, load_settings({}, database_url=f"sqlite+aiosqlite:///{building}")
        )
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        shape = await asyncio.to_thread(
            dataset.load_sqlite, building, options.customers, options.interactions, options.seed
        )
        await asyncio.to_thread(building.rename, path)
        stats = {"rows": shape.rows, "seconds": shape.seconds}
        await asyncio.to_thread(meta.write_text, json.dumps(stats), encoding="utf-8")
        options.out(describe("sqlite", f"built {path}", shape))
    return f"sqlite+aiosqlite:///{path}"


def describe(label: str, how: str, shape: dataset.Shape) -> str:
    return (
        f"[{label}] data set: {how} in {shape.seconds:.1f} s: {shape.customers:,} customers, "
        f"{shape.numbers:,} numbers, {shape.interactions:,} interactions, {shape.tasks:,} tasks, "
        f"{shape.cases:,} cases ({shape.rows / max(shape.seconds, 1e-9):,.0f} rows/s)"
    )


async def postgres_dataset(name: str, options: Options) -> str:
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    engine = await asyncio.to_thread(create_engine, load_settings({}, database_url=url))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=name)
    try:
        shape = await dataset.load_postgres(
            connection, options.customers, options.interactions, options.seed
        )
    finally:
        await connection.close()
    options.out(describe("postgresql", f"COPY into throwaway database {name}", shape))
    return url


async def main_async(options: Options, databases: Sequence[str]) -> None:
    options.out(
        f"history benchmark: {options.customers:,} customers, {options.interactions:,} "
        f"interactions; {options.samples:,} requests per line (+{options.warmup} warm-up), "
        f"{options.searches} per search line, one at a time; seed {options.seed}"
    )
    pg_version = None
    if "postgresql" in databases:
        connection = await asyncpg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres"
        )
        try:
            pg_version = "PostgreSQL " + await connection.fetchval("SHOW server_version")
        finally:
            await connection.close()
    options.out(environment_line(pg_version))
    if "sqlite" in databases:
        url = await sqlite_dataset(options)
        await measure("sqlite", url, options)
    if "postgresql" in databases:
        async with postgres_database() as name:
            url = await postgres_dataset(name, options)
            await measure("postgresql", url, options)


def parse_args(argv: Sequence[str] | None) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history",
        description="Customer card, contact history, search and due tasks: latency on "
        "SQLite and PostgreSQL.",
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=2_000_000)
    parser.add_argument("--samples", type=int, default=2_000, help="requests per line")
    parser.add_argument("--searches", type=int, default=200, help="requests per search line")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args(argv)
    for name in ("customers", "interactions", "samples", "searches"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    options = Options(
        customers=args.customers,
        interactions=args.interactions,
        samples=args.samples,
        searches=args.searches,
        warmup=args.warmup,
        seed=args.seed,
        cache_dir=args.cache_dir,
    )
    return options, databases


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options, databases = parse_args(argv)
    asyncio.run(main_async(options, databases))
