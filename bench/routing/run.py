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
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import sqlalchemy
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    percentile,
    postgres_database,
    schema_head,
    summary,
)
from bench.routing import dataset
from contact_center.agi.server import AgiServer, Handler
from contact_center.routing.agi_route import route_call
from contact_center.routing.service import Router, lookup_caller
from contact_center.settings import load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade

CACHE_DIR = Path("var/bench")
TARGET_P99_MS = 5.0
KNOWN_SHARE = 0.85
UNKNOWN_SHARE = 0.10
GARBAGE = ("", "anonymous", "unknown", "Restricted", "123", "abc", "+48 123", "0000")
LOOKUPS = 2_000
MAX_CALLERS = 50_000
PHASE_MAX_SECONDS = 300.0
LOADED_RATES = (5.0, 20.0, 50.0)
"""Open-loop arrival rates shown beside the target's (new calls per second)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    customers: int
    calls: int
    warmup: int
    concurrency: int
    seed: int
    cache_dir: Path
    lookups: int
    call_seconds: float
    rates: tuple[float, ...]
    open_seconds: float
    open_min: int
    out: Callable[[str], None] = print

    @property
    def target_rate(self) -> float:
        """New calls per second that keep ``concurrency`` calls of ``call_seconds`` going."""
        return self.concurrency / self.call_seconds

    def open_calls(self, rate: float) -> int:
        """Decisions measured at an open-loop rate: about ``open_seconds`` of arrivals,
        at least ``open_min``, at most ``calls``."""
        return min(self.calls, max(self.open_min, round(rate * self.open_seconds)))


def p99_ms(latencies_us: Sequence[float]) -> float:
    return percentile(sorted(v / 1000 for v in latencies_us), 0.99)


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
    """The cached SQLite file (built when absent); its URL, known and unknown numbers.

    The file's name carries the schema revision, so a migration makes a new one."""
    revision = await asyncio.to_thread(schema_head)
    name = f"routing-{options.customers}-seed{options.seed}-schema{revision}.sqlite3"
    path = options.cache_dir / name
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


def real_handler(router: Router) -> Handler:
    """Exactly what ``contact_center/bridge.py`` serves as ``route``."""
    return functools.partial(route_call, router)


async def measure_lookup(engine: AsyncEngine, known: Sequence[str], count: int) -> list[float]:
    """``lookup_caller`` alone on a fresh pooled connection each time, one at a time."""
    latencies: list[float] = []
    for n in range(min(count, len(known)) + 100):
        start = time.perf_counter_ns()
        async with engine.connect() as connection:
            await lookup_caller(connection, known[n % len(known)])
        if n >= 100:
            latencies.append((time.perf_counter_ns() - start) / 1000)
    return latencies


async def run_callers(
    port: int,
    callers_file: Path,
    *,
    calls: int,
    warmup: int,
    concurrency: int = 1,
    rate: float = 0.0,
) -> dict[str, Any]:
    """The load generator in its own process (closed loop, or open loop when ``rate``)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.routing.loadgen",
        f"--port={port}",
        f"--callers={callers_file}",
        f"--concurrency={concurrency}",
        f"--rate={rate}",
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


def figures(result: dict[str, Any]) -> str:
    latencies = result["latencies_us"]
    return f"decisions={len(latencies)} errors={result['errors']} {summary(latencies)}"


@dataclasses.dataclass(frozen=True, slots=True)
class Results:
    target: dict[str, Any]
    saturation: dict[str, Any]


async def measure(
    label: str, url: str, known: Sequence[str], unknown: Sequence[str], options: Options
) -> Results:
    settings = load_settings({}, database_url=url)
    engine = await asyncio.to_thread(create_engine, settings)
    sessions = session_factory(engine)
    router = Router(sessions, settings)
    callers = caller_mix(known, unknown, min(options.calls + options.warmup, MAX_CALLERS), 7)
    out = options.out
    # as the bridge runs it: the rulebook kept fresh in the background, never reloaded by a call
    refresher = asyncio.create_task(router.keep_fresh(), name="rulebook")
    try:
        lookups = await measure_lookup(engine, known, options.lookups)
        out(f"[{label}] lookup_caller alone, 1 at a time: n={len(lookups)} {summary(lookups)}")
        with tempfile.TemporaryDirectory(prefix="cc-bench-") as folder:
            callers_file = Path(folder) / "callers.json"
            callers_file.write_text(json.dumps(callers), encoding="utf-8")
            server = AgiServer(
                "127.0.0.1",
                0,
                {"route": real_handler(router)},
                handler_timeout=settings.agi_route_timeout,
            )
            async with server:
                run = functools.partial(run_callers, server.port, callers_file)
                result = await run(
                    calls=max(options.calls // 10, 50), warmup=max(options.warmup // 10, 10)
                )
                rate = len(result["latencies_us"]) / result["seconds"]
                out(
                    f"[{label}] unloaded, 1 call at a time: {figures(result)} "
                    f"decisions_per_s={rate:.0f}"
                )
                target: dict[str, Any] = {}
                for arrivals in (options.target_rate, *options.rates):
                    result = await run(rate=arrivals, calls=options.open_calls(arrivals), warmup=5)
                    is_target = arrivals == options.target_rate
                    what = (
                        f" = {options.concurrency} calls in progress of "
                        f"{options.call_seconds:g} s average  <- compared with the target"
                        if is_target
                        else ""
                    )
                    out(
                        f"[{label}] open loop, {arrivals:.2f} new calls/s (Poisson){what}: "
                        f"{figures(result)} max_in_flight={result['max_in_flight']}"
                    )
                    if is_target:
                        target = result
                saturation = await run(
                    concurrency=options.concurrency, calls=options.calls, warmup=options.warmup
                )
                rate = len(saturation["latencies_us"]) / saturation["seconds"]
                out(
                    f"[{label}] saturation, closed loop of {options.concurrency} callers "
                    f"(latency = {options.concurrency} / throughput, not a call center's "
                    f"latency): {figures(saturation)} decisions_per_s={rate:.0f}"
                )
                rules = ", ".join(
                    f"{rule} {count}" for rule, count in Counter(saturation["rules"]).most_common()
                )
                out(
                    f"[{label}]   capacity: {rate:.0f} decisions/s = {rate * 3600:,.0f} new calls "
                    f"an hour, {rate * options.call_seconds:,.0f} calls in progress at "
                    f"{options.call_seconds:g} s each; commands per call "
                    f"{saturation['commands'] / max(len(saturation['latencies_us']), 1):.1f}; "
                    f"rules: {rules}"
                )
    finally:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher
        await router.aclose()
        await engine.dispose()
    return Results(target, saturation)


def verdict(label: str, results: Results, options: Options) -> str:
    p99 = p99_ms(results.target["latencies_us"])
    met = "MET" if p99 <= TARGET_P99_MS and not results.target["errors"] else "MISSED"
    return (
        f"[{label}] target p99 <= {TARGET_P99_MS:.0f} ms at {options.concurrency} concurrent "
        f"calls (open loop, {options.target_rate:.2f} new calls/s, "
        f"{len(results.target['latencies_us'])} decisions): {met} (p99 {p99:.2f} ms)"
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
    rates = ", ".join(f"{r:g}" for r in (round(options.target_rate, 2), *options.rates))
    options.out(
        f"routing benchmark: {options.customers:,} customers, {2 * options.customers:,} numbers; "
        f"1 call at a time; open loop at {rates} new calls/s; saturation with "
        f"{options.calls:,} calls (+{options.warmup:,} warm-up) by {options.concurrency} "
        f"callers in a closed loop; load generator in a separate process; seed {options.seed}"
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
        results = await measure("sqlite", url, known, unknown, options)
        verdicts.append(verdict("sqlite", results, options))
    if "postgresql" in databases:
        async with postgres_database() as name:
            url, known, unknown, _ = await postgres_dataset(name, options)
            results = await measure("postgresql", url, known, unknown, options)
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
        "--call-seconds",
        type=float,
        default=180.0,
        help="average call length: --concurrency / this is the target's arrival rate",
    )
    parser.add_argument(
        "--rates",
        default=",".join(f"{r:g}" for r in LOADED_RATES),
        help="other open-loop arrival rates, new calls per second (comma-separated)",
    )
    parser.add_argument(
        "--open-seconds", type=float, default=120.0, help="arrivals measured per open-loop rate"
    )
    parser.add_argument("--open-min", type=int, default=50, help="fewest decisions per rate")
    args = parser.parse_args(argv)
    for name in ("customers", "calls", "concurrency", "open_min"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        rates = tuple(float(r) for r in args.rates.split(",") if r.strip())
    except ValueError:
        parser.error("--rates must be numbers separated by commas")
    if args.call_seconds <= 0 or args.open_seconds <= 0 or any(r <= 0 for r in rates):
        parser.error("--call-seconds, --open-seconds and --rates must be positive")
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
        call_seconds=args.call_seconds,
        rates=rates,
        open_seconds=args.open_seconds,
        open_min=args.open_min,
    )
    return options, databases


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options, databases = parse_args(argv)
    asyncio.run(main_async(options, databases))
