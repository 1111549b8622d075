"""The routing benchmark: decision latency at the FastAGI socket, on SQLite and PostgreSQL.

The server side is the real thing, wired as ``contact_center/bridge.py`` wires it: our
``AgiServer`` on 127.0.0.1 (port 0) with ``functools.partial(route_call, Router(...))``, over
our engine and session factory. The callers are a separate process (``loadgen``), so their
CPU does not run on the server's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import os
import platform
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import sqlalchemy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.routing import dataset
from contact_center.agi.server import AgiServer, Handler
from contact_center.routing.agi_route import route_call
from contact_center.routing.service import Router, lookup_caller
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
CACHE_DIR = Path("var/bench")
TARGET_P99_MS = 5.0
KNOWN_SHARE = 0.85
UNKNOWN_SHARE = 0.10
GARBAGE = ("", "anonymous", "unknown", "Restricted", "123", "abc", "+48 123", "0000")
LOOKUPS = 2_000
MAX_CALLERS = 50_000
PHASE_MAX_SECONDS = 300.0

HandlerFactory = Callable[[Router, async_sessionmaker[AsyncSession], Settings], Handler]


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    customers: int
    calls: int
    warmup: int
    concurrency: int
    seed: int
    cache_dir: Path
    lookups: int
    variants: bool
    out: Callable[[str], None] = print


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(share * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(latencies_us: Sequence[float]) -> str:
    values = sorted(v / 1000 for v in latencies_us)
    return (
        f"p50_ms={percentile(values, 0.50):.2f} p90_ms={percentile(values, 0.90):.2f} "
        f"p99_ms={percentile(values, 0.99):.2f} max_ms={values[-1] if values else float('nan'):.2f}"
    )


# --- callers ---------------------------------------------------------------------------------


def presented(number: str, rng: random.Random) -> str:
    """How a carrier presents a known number: E.164, 00-international or Polish national."""
    draw = rng.random()
    if draw < 0.15:
        return "00" + number[1:]
    if draw < 0.30 and number.startswith("+48"):
        return number[3:]
    return number


def caller_mix(known: Sequence[str], unknown: Sequence[str], count: int, seed: int) -> list[str]:
    """~85% known customers' numbers, ~10% unknown valid numbers, ~5% withheld or garbage."""
    rng = random.Random(f"bench-routing-mix:{seed}")
    callers: list[str] = []
    for n in range(count):
        draw = rng.random()
        if draw < KNOWN_SHARE:
            callers.append(presented(known[n % len(known)], rng))
        elif draw < KNOWN_SHARE + UNKNOWN_SHARE:
            callers.append(unknown[n % len(unknown)])
        else:
            callers.append(rng.choice(GARBAGE))
    return callers


# --- data sets -------------------------------------------------------------------------------


async def sqlite_dataset(options: Options) -> tuple[str, list[str], list[str]]:
    """The cached SQLite file (built when absent); its URL, known and unknown numbers."""
    path = options.cache_dir / f"routing-{options.customers}-seed{options.seed}.sqlite3"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        stats = json.loads(meta.read_text(encoding="utf-8"))
        options.out(
            f"[sqlite] data set: cached {path} ({stats['customers']:,} customers, "
            f"{stats['numbers']:,} numbers; built in {stats['seconds']:.1f} s, "
            f"{stats['rows_per_second']:,.0f} rows/s)"
        )
    else:
        options.cache_dir.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)
        engine = await asyncio.to_thread(
            create_engine, load_settings({}, database_url=f"sqlite+aiosqlite:///{building}")
        )
        try:
            start = time.perf_counter()
            await upgrade(engine)
            migrate = time.perf_counter() - start
        finally:
            await engine.dispose()
        loaded = await asyncio.to_thread(
            dataset.load_sqlite, building, options.customers, options.seed
        )
        building.rename(path)
        stats = dataclasses.asdict(loaded) | {"rows_per_second": loaded.rows_per_second}
        meta.write_text(json.dumps(stats), encoding="utf-8")
        options.out(
            f"[sqlite] data set: built {path} in {loaded.seconds:.1f} s (+{migrate:.1f} s "
            f"migrations): {loaded.customers:,} customers, {loaded.numbers:,} numbers, "
            f"{loaded.rows_per_second:,.0f} rows/s"
        )
    count = min(options.calls + options.warmup, MAX_CALLERS)
    known, _ = await asyncio.to_thread(dataset.sqlite_sample, path, count, options.seed)
    candidates = dataset.unknown_numbers(max(count // 5, 50), options.seed)
    taken = await asyncio.to_thread(dataset.sqlite_existing, path, candidates)
    return f"sqlite+aiosqlite:///{path}", known, [n for n in candidates if n not in taken]


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A throwaway database with a random name, always dropped (``WITH (FORCE)``)."""
    name = f"cc_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield name
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def postgres_dataset(name: str, options: Options) -> tuple[str, list[str], list[str], str]:
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    engine = await asyncio.to_thread(create_engine, load_settings({}, database_url=url))
    try:
        start = time.perf_counter()
        await upgrade(engine)
        migrate = time.perf_counter() - start
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=name)
    try:
        loaded = await dataset.load_postgres(connection, options.customers, options.seed)
        options.out(
            f"[postgresql] data set: COPY into throwaway database {name} in "
            f"{loaded.seconds:.1f} s (+{migrate:.1f} s migrations, ANALYZE included): "
            f"{loaded.customers:,} customers, {loaded.numbers:,} numbers, "
            f"{loaded.rows_per_second:,.0f} rows/s"
        )
        count = min(options.calls + options.warmup, MAX_CALLERS)
        known, _ = await dataset.postgres_sample(connection, count, options.seed)
        candidates = dataset.unknown_numbers(max(count // 5, 50), options.seed)
        taken = await dataset.postgres_existing(connection, candidates)
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return url, known, [n for n in candidates if n not in taken], f"PostgreSQL {version}"


# --- measurement -----------------------------------------------------------------------------


def real_handler(
    router: Router, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Handler:
    """Exactly what ``contact_center/bridge.py`` serves as ``route``."""
    return functools.partial(route_call, router)


async def measure_lookup(
    sessions: async_sessionmaker[AsyncSession], known: Sequence[str], count: int
) -> list[float]:
    """``lookup_caller`` alone through a fresh async session each time, one at a time."""
    latencies: list[float] = []
    for n in range(min(count, len(known)) + 100):
        start = time.perf_counter_ns()
        async with sessions() as session:
            await lookup_caller(session, known[n % len(known)])
        if n >= 100:
            latencies.append((time.perf_counter_ns() - start) / 1000)
    return latencies


async def run_callers(
    port: int, callers_file: Path, *, concurrency: int, calls: int, warmup: int
) -> dict[str, Any]:
    """The load generator in its own process; its JSON result."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.routing.loadgen",
        f"--port={port}",
        f"--callers={callers_file}",
        f"--concurrency={concurrency}",
        f"--calls={calls}",
        f"--warmup={warmup}",
        f"--max-seconds={PHASE_MAX_SECONDS}",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(PHASE_MAX_SECONDS + 60):
            stdout, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"the load generator failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(stdout)
    return result


async def measure(
    label: str,
    url: str,
    known: Sequence[str],
    unknown: Sequence[str],
    options: Options,
    handlers: dict[str, HandlerFactory],
) -> dict[str, dict[str, Any]]:
    settings = load_settings({}, database_url=url)
    engine = await asyncio.to_thread(create_engine, settings)
    sessions = session_factory(engine)
    router = Router(sessions, settings)
    callers = caller_mix(known, unknown, min(options.calls + options.warmup, MAX_CALLERS), 7)
    results: dict[str, dict[str, Any]] = {}
    try:
        lookups = await measure_lookup(sessions, known, options.lookups)
        options.out(
            f"[{label}] lookup_caller alone, 1 at a time: n={len(lookups)} {summary(lookups)}"
        )
        if options.variants:
            from bench.routing import variants

            lookups = await variants.measure_core_lookup(engine, settings, known, options.lookups)
            options.out(
                f"[{label}] core lookup alone (variants.py), 1 at a time: n={len(lookups)} "
                f"{summary(lookups)}"
            )
        with tempfile.TemporaryDirectory(prefix="cc-bench-") as folder:
            callers_file = Path(folder) / "callers.json"
            callers_file.write_text(json.dumps(callers), encoding="utf-8")
            for name, factory in handlers.items():
                server = AgiServer(
                    "127.0.0.1",
                    0,
                    {"route": factory(router, sessions, settings)},
                    handler_timeout=settings.agi_route_timeout,
                )
                async with server:
                    phases = (
                        (
                            "1 caller",
                            1,
                            max(options.calls // 10, 50),
                            max(options.warmup // 10, 10),
                        ),
                        (
                            f"{options.concurrency} callers",
                            options.concurrency,
                            options.calls,
                            options.warmup,
                        ),
                    )
                    for phase, concurrency, calls, warmup in phases:
                        result = await run_callers(
                            server.port,
                            callers_file,
                            concurrency=concurrency,
                            calls=calls,
                            warmup=warmup,
                        )
                        latencies = result["latencies_us"]
                        rate = len(latencies) / result["seconds"]
                        options.out(
                            f"[{label}] fastagi {name}, {phase}: concurrency={concurrency} "
                            f"decisions={len(latencies)} errors={result['errors']} "
                            f"{summary(latencies)} decisions_per_s={rate:.0f}"
                        )
                        results[f"{name}/{concurrency}"] = result
                        if concurrency == options.concurrency:
                            rules = ", ".join(
                                f"{rule} {count}"
                                for rule, count in Counter(result["rules"]).most_common()
                            )
                            options.out(
                                f"[{label}]   commands per call "
                                f"{result['commands'] / max(len(latencies), 1):.1f}; rules: {rules}"
                            )
    finally:
        await engine.dispose()
    return results


def verdict(label: str, results: dict[str, dict[str, Any]], options: Options) -> str:
    latencies = sorted(v / 1000 for v in results[f"real/{options.concurrency}"]["latencies_us"])
    p99 = percentile(latencies, 0.99)
    met = "MET" if p99 <= TARGET_P99_MS else "MISSED"
    return (
        f"[{label}] target p99 <= {TARGET_P99_MS:.0f} ms at {options.concurrency} concurrent "
        f"calls: {met} (p99 {p99:.2f} ms)"
    )


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


async def main_async(options: Options, databases: Sequence[str]) -> None:
    from bench.routing import variants

    handlers: dict[str, HandlerFactory] = {"real": real_handler}
    if options.variants:
        handlers.update(variants.HANDLERS)
    options.out(
        f"routing benchmark: {options.customers:,} customers, {2 * options.customers:,} numbers; "
        f"{options.calls:,} calls (+{options.warmup:,} warm-up) at {options.concurrency} "
        f"concurrent callers, and 1 caller; load generator in a separate process; seed "
        f"{options.seed}"
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
    verdicts: list[str] = []
    if "sqlite" in databases:
        url, known, unknown = await sqlite_dataset(options)
        results = await measure("sqlite", url, known, unknown, options, handlers)
        verdicts.append(verdict("sqlite", results, options))
    if "postgresql" in databases:
        async with postgres_database() as name:
            url, known, unknown, _ = await postgres_dataset(name, options)
            results = await measure("postgresql", url, known, unknown, options, handlers)
            verdicts.append(verdict("postgresql", results, options))
    for line in verdicts:
        options.out(line)


def parse_args(argv: Sequence[str] | None) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.routing",
        description="Routing decision latency at the FastAGI socket, SQLite and PostgreSQL.",
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=None, help="default: calls / 20")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--lookups", type=int, default=LOOKUPS)
    parser.add_argument(
        "--variants", action="store_true", help="also measure the prototype handlers in variants.py"
    )
    args = parser.parse_args(argv)
    for name in ("customers", "calls", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    warmup = args.warmup if args.warmup is not None else max(args.calls // 20, 10)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    options = Options(
        customers=args.customers,
        calls=args.calls,
        warmup=warmup,
        concurrency=args.concurrency,
        seed=args.seed,
        cache_dir=args.cache_dir,
        lookups=args.lookups,
        variants=args.variants,
    )
    return options, databases


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options, databases = parse_args(argv)
    asyncio.run(main_async(options, databases))
