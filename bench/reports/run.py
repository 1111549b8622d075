"""Reports benchmark: with two years of history for a 200-agent center (about 5 million
calls) in PostgreSQL, how long a month's report takes (``build_report``: every query the
report page makes), with no filter and with each kind of filter.

The data set is made in the database (``bench.reports.dataset``), in a throwaway database
dropped at the end (``--keep NAME`` makes or reuses a named one instead, to measure again
without making the data again)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool

from bench.common import PG_HOST, PG_PORT, PG_USER, postgres_database, summary
from bench.reports import dataset
from contact_center.analytics.metrics import Filters
from contact_center.analytics.reports import Period, build_report
from contact_center.settings import load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade

TARGET_MS = 1000.0


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    calls: int
    agents: int
    customers: int
    days: int
    samples: int
    keep: str | None
    seed: float = 0.2026
    out: Callable[[str], None] = print


@asynccontextmanager
async def database(options: Options) -> AsyncIterator[tuple[str, bool]]:
    """The database's name, and whether it holds the data set already."""
    if options.keep is None:
        async with postgres_database() as name:
            yield name, False
        return
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", options.keep)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{options.keep}"')
    finally:
        await admin.close()
    yield options.keep, bool(exists)


async def measure(options: Options) -> None:
    async with database(options) as (name, ready):
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
        engine = await asyncio.to_thread(create_engine, load_settings({}, database_url=url))
        try:
            if not ready:
                await upgrade(engine)
                connection = await asyncpg.connect(
                    host=PG_HOST, port=PG_PORT, user=PG_USER, database=name
                )
                try:
                    started = time.perf_counter()
                    await dataset.load(
                        connection,
                        options.calls,
                        options.agents,
                        options.customers,
                        options.days,
                        options.seed,
                    )
                    made = time.perf_counter() - started
                finally:
                    await connection.close()
                options.out(
                    f"data set: {options.calls:,} calls over {options.days} days, "
                    f"{options.agents} agents, {options.customers:,} customers, made in "
                    f"{made:.1f} s (INSERT ... SELECT generate_series) in database {name}"
                )
            else:
                options.out(f"data set: reused from database {name}")
            connection = await asyncpg.connect(
                host=PG_HOST, port=PG_PORT, user=PG_USER, database=name
            )
            try:
                version = await connection.fetchval("SHOW server_version")
            finally:
                await connection.close()
            options.out(
                f"environment: {os.cpu_count()} CPUs, load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, PostgreSQL {version}, "
                f"SQLAlchemy {sqlalchemy.__version__}, asyncpg {asyncpg.__version__}"
            )
            await run_reports(options, session_factory(engine))
            await backend_cpu(options, url)
        finally:
            await engine.dispose()


async def run_reports(
    options: Options, sessions: sqlalchemy.ext.asyncio.async_sessionmaker
) -> None:  # type: ignore[type-arg]
    tz = await asyncio.to_thread(ZoneInfo, "Europe/Warsaw")
    month = the_month(options, tz)
    cases = [
        ("month, no filter", Filters()),
        ("month, queue=support-pl", Filters(queue="support-pl")),
        ("month, agent=17", Filters(agent_id=17)),
        ("month, tier=vip", Filters(tier="vip")),
        ("month, hotline=+48800100200", Filters(hotline="+48800100200")),
        ("month, disposition=resolved", Filters(disposition="resolved")),
    ]
    offered = None
    for label, filters in cases:
        latencies: list[float] = []
        for n in range(options.samples + 1):
            began = time.perf_counter_ns()
            report = await build_report(sessions, month, filters, tz=tz)
            if n:  # the first one warms the caches
                latencies.append((time.perf_counter_ns() - began) / 1000)
            if offered is None:
                offered = report.totals.offered
                options.out(
                    f"month {month.first} to {month.last}: {offered:,} offered calls, "
                    f"{report.totals.answered:,} answered, service level "
                    f"{(report.totals.service_level or 0) * 100:.1f}%, "
                    f"{len(report.agents)} agents in the agents table"
                )
        worst = max(latencies) / 1000
        verdict = "under" if worst < TARGET_MS else "OVER"
        options.out(
            f"{label}: n={len(latencies)} {summary(latencies)} "
            f"({verdict} the {TARGET_MS:.0f} ms target)"
        )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_cpu(options: Options, url: str) -> None:
    """The CPU one month's report costs PostgreSQL, whatever else the machine runs: its
    queries one after the other on one connection without parallel workers, the backend's
    own CPU time (from /proc: PostgreSQL on this machine). Two cores share it out when the
    queries run at once."""
    engine = create_async_engine(url, poolclass=StaticPool)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            await session.execute(text("SET max_parallel_workers_per_gather = 0"))
            pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            await session.commit()
        if not await asyncio.to_thread(Path(f"/proc/{pid}/stat").exists):
            options.out("backend CPU: PostgreSQL is not on this machine, not measured")
            return
        tz = await asyncio.to_thread(ZoneInfo, "Europe/Warsaw")
        month = the_month(options, tz)
        spent: list[float] = []
        for n in range(options.samples + 1):
            before = await asyncio.to_thread(_cpu_seconds, pid)
            await build_report(sessions, month, Filters(), tz=tz, at_once=False)
            if n:
                spent.append(await asyncio.to_thread(_cpu_seconds, pid) - before)
        spent.sort()
        median, worst = spent[len(spent) // 2] * 1000, spent[-1] * 1000
        options.out(
            f"month, no filter, backend CPU (queries one after the other, no parallel "
            f"workers): median {median:.0f} ms, max {worst:.0f} ms"
        )
    finally:
        await engine.dispose()


def the_month(options: Options, tz: ZoneInfo) -> Period:
    """The last whole month of the data set."""
    start = dt.date(2025, 1, 1)
    first = (start + dt.timedelta(days=options.days - 45)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Period.of_days(first, following - dt.timedelta(days=1), tz)


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reports",
        description="A month's report over two years of calls on PostgreSQL.",
    )
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--samples", type=int, default=5, help="reports per line")
    parser.add_argument("--keep", help="make or reuse this database instead of a throwaway")
    args = parser.parse_args(argv)
    if min(args.calls, args.agents, args.customers, args.samples) < 1 or args.days < 60:
        parser.error("sizes must be at least 1, --days at least 60")
    return Options(
        calls=args.calls,
        agents=args.agents,
        customers=args.customers,
        days=args.days,
        samples=args.samples,
        keep=args.keep,
    )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(measure(parse_args(argv)))
