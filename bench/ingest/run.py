"""The ingest benchmark: the recorded AMI stream, replayed at full speed into the real bridge.

The bridge is ``contact_center.bridge.Bridge`` as the runtime builds it, over our engine and
session factory, our bus and live state (memory, or Redis with ``--redis``), linked by AMI to
the replay server (``bench.ingest.server``, a separate process). Every event goes the whole
way: our AMI client (panoramisk's protocol shell with our decoder), typed events, the queue
watch and the call tracker, one transaction per finished call (SQLite in a temporary
directory, or a throwaway PostgreSQL database with ``--db postgresql``), the notifier.

The clock runs from the first byte the server writes to the ``interaction_logged`` message
of the last call (published after its transaction committed); the CPU figure is this
process's (``getrusage``: the event loop and the database driver's thread), taken over the
same span. The same bytes are then parsed by bare panoramisk, the way its ``AMIProtocol``
does on every read, with no network and none of our code, for the comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import io
import json
import logging
import os
import platform
import pstats
import resource
import secrets
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import func, select

from bench.ingest import bare
from bench.ingest.stream import DEFAULT_STREAM, Template, describe, load
from contact_center.bridge import Bridge
from contact_center.demo import load_demo_data
from contact_center.runtime import open_database, open_messaging
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Interaction

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
REDIS_URL = "redis://127.0.0.1:6379/9"
TARGET_EVENTS_PER_S = 10_000
TARGET_SHARE_OF_BARE = 0.5
BARE_CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    stream: Path
    repeat: int
    db: str
    redis: bool
    customers: int
    pin: bool
    profile: Path | None
    timeout: float
    stall: float = 60.0
    out: Callable[[str], None] = print


@dataclasses.dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    cpu_user: float
    cpu_system: float
    cpu_loop: float
    """CPU of the event loop's thread alone; the rest is the driver's and journal's threads."""
    logged: int
    written: int
    distinct: int

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_system


class FailedCheck(Exception):
    """The run did not do what the stream says it should: its figures mean nothing."""


# --- resources -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def database_url(db: str, folder: Path) -> AsyncIterator[str]:
    """SQLite in ``folder``, or a throwaway PostgreSQL database (always dropped)."""
    if db == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'ingest.sqlite3'}"
        return
    from bench.routing.run import postgres_database

    async with postgres_database() as name:
        yield PG_URL.format(name=name)


@contextlib.asynccontextmanager
async def replay_server(stream: Path, repeat: int, avoid: set[int]) -> AsyncIterator[ReplayServer]:
    """The server in its own process, off the CPUs in ``avoid`` when others are left."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ingest.server",
        f"--stream={stream}",
        f"--repeat={repeat}",
        f"--avoid-cpus={','.join(map(str, sorted(avoid)))}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 300)
        if not line.startswith(b"port="):
            raise RuntimeError(f"the replay server did not start: {line!r}")
        yield ReplayServer(int(line[5:]), process)
    finally:
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@dataclasses.dataclass
class ReplayServer:
    port: int
    process: asyncio.subprocess.Process

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")

    async def report(self) -> dict[str, Any]:
        """The server's next JSON line: the stream's report, or an error."""
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise FailedCheck("the replay server stopped without a report")
        result: dict[str, Any] = json.loads(line)
        if "error" in result:
            raise FailedCheck(f"replay server: {result['error']}")
        return result


async def watch(counting: LoggedCalls, stall: float) -> None:
    """Until every call is logged; a bridge that logs nothing for ``stall`` seconds fails."""
    while not counting.all_in.is_set():
        counting.progress.clear()
        try:
            async with asyncio.timeout(stall):
                await counting.progress.wait()
        except TimeoutError:
            raise FailedCheck(
                f"no call logged for {stall:g} s: stuck at {counting.count} of {counting.expected}"
            ) from None


@contextlib.asynccontextmanager
async def owned() -> AsyncIterator[set[asyncio.Task[None]]]:
    """Tasks the caller adds; cancelled and awaited on the way out, whatever happened."""
    tasks: set[asyncio.Task[None]] = set()
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class LoggedCalls:
    """Counts ``interaction_logged`` for one node; notes when the last expected one came."""

    def __init__(self, node: str, expected: int) -> None:
        self.node = node
        self.expected = expected
        self.count = 0
        self.last_at = 0.0
        self.all_in = asyncio.Event()
        self.progress = asyncio.Event()
        self.subscribed = asyncio.Event()

    async def run(self, messages: AsyncIterator[Any]) -> None:
        self.subscribed.set()
        async for message in messages:
            if message.topic == "interaction_logged" and message.data.get("node") == self.node:
                self.count += 1
                self.progress.set()
                if self.count >= self.expected:
                    self.last_at = time.monotonic()
                    self.all_in.set()


# --- the run ---------------------------------------------------------------------------------


def rusage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


async def count_written(settings: Settings, sessions: Any) -> tuple[int, int]:
    async with sessions() as session:
        row = (
            await session.execute(
                select(func.count(), func.count(func.distinct(Interaction.linkedid))).where(
                    Interaction.node == settings.node
                )
            )
        ).one()
    return int(row[0]), int(row[1])


async def ingest(options: Options, settings: Settings, template: Template) -> Measured:
    expected = template.calls * options.repeat
    async with (
        open_database(settings) as database,
        open_messaging(settings) as messaging,
        replay_server(options.stream, options.repeat, avoid=os.sched_getaffinity(0)) as server,
    ):
        settings = dataclasses.replace(settings, ami_port=server.port)
        await upgrade(database.engine)
        if options.customers:
            # the recording's demo data set: its customer ids and agents' phones resolve
            await load_demo_data(database.sessions, customers=options.customers)
        counting = LoggedCalls(settings.node, expected)
        bridge = Bridge(settings, database.sessions, messaging.notifier, messaging.live)
        profiler = cProfile.Profile() if options.profile else None
        async with owned() as tasks:
            tasks.add(asyncio.create_task(counting.run(messaging.bus.subscribe())))
            await bridge.start()
            tasks.add(asyncio.create_task(bridge.run()))
            await bridge.ami.wait_connected(10.0)
            await counting.subscribed.wait()
            await asyncio.sleep(1.0)  # the connect-time actions are answered and done
            before, loop_before = rusage(), time.thread_time()
            if profiler is not None:
                profiler.enable()
            server.go()
            try:
                async with asyncio.timeout(options.timeout):
                    report = await server.report()  # the last byte is out (or it failed)
                    await watch(counting, options.stall)
            except TimeoutError:
                raise FailedCheck(
                    f"only {counting.count} of {expected} calls were logged "
                    f"within {options.timeout:g} s"
                ) from None
            finally:
                if profiler is not None:
                    profiler.disable()
            after, loop_after = rusage(), time.thread_time()
            await asyncio.sleep(0.5)  # a duplicate would show up now
            written, distinct = await count_written(settings, database.sessions)
            if report["connections"] != 1:
                raise FailedCheck(f"the bridge connected {report['connections']} times, not once")
        if profiler is not None and options.profile is not None:
            profiler.dump_stats(options.profile)
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
            options.out(f"profile (cProfile, event loop thread, wall clock) in {options.profile}:")
            for line in text.getvalue().splitlines():
                options.out("  " + line)
        return Measured(
            seconds=counting.last_at - report["first_byte"],
            cpu_user=after[0] - before[0],
            cpu_system=after[1] - before[1],
            cpu_loop=loop_after - loop_before,
            logged=counting.count,
            written=written,
            distinct=distinct,
        )


def environment_line() -> str:
    import aiosqlite
    import asyncpg

    return (
        f"environment: {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, panoramisk {bare.version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version} (aiosqlite "
        f"{aiosqlite.__version__}), asyncpg {asyncpg.__version__}"
    )


async def main_async(options: Options) -> bool:
    """Run, print the figures; False if a target was missed. Raises FailedCheck."""
    out = options.out
    data = await asyncio.to_thread(load, options.stream)
    about = await asyncio.to_thread(describe, data)
    template = await asyncio.to_thread(Template.of, data)
    events, calls = template.events * options.repeat, template.calls * options.repeat
    label = options.db + (" + redis" if options.redis else "")
    out(
        f"ingest benchmark: {options.stream.name}: {template.events:,} events, "
        f"{template.calls:,} calls, {about['seconds']:.0f} s of traffic per repetition; "
        f"{options.repeat} repetitions = {events:,} events, {calls:,} calls, "
        f"{about['bytes'] * options.repeat / 1e6:.1f} MB; database {options.db}, bus "
        f"{'redis' if options.redis else 'memory'}"
    )
    out(environment_line())
    if options.pin:
        cpu = max(os.sched_getaffinity(0))
        others = os.sched_getaffinity(0) - {cpu}
        os.sched_setaffinity(0, {cpu})
        out(
            f"bridge pinned to CPU {cpu}; the replay server runs in its own process"
            + (f" on CPU {', '.join(map(str, sorted(others)))}" if others else "")
        )
    node = f"bench-{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="cc-bench-ingest-") as folder:
        async with database_url(options.db, Path(folder)) as url:
            env = {
                "CC_NODE": node,
                "CC_STATE_DIR": folder,
                "CC_DATABASE_URL": url,
                "CC_AMI_SECRET": "bench",
                "CC_AGI_PORT": str(free_port()),
                "CC_LOG_LEVEL": "WARNING",
            }
            if options.redis:
                env["CC_REDIS_URL"] = REDIS_URL
            settings = await asyncio.to_thread(load_settings, env)
            try:
                measured = await ingest(options, settings, template)
            finally:
                if options.redis:
                    await forget_node(node)
    out(
        f"[{label}] interactions written: {measured.written} of {calls} expected "
        f"({template.calls} calls x {options.repeat} repetitions), distinct linkedids "
        f"{measured.distinct}, logged messages {measured.logged}: "
        + ("OK" if measured.written == measured.distinct == calls else "WRONG")
    )
    if not measured.written == measured.distinct == measured.logged == calls:
        raise FailedCheck(
            f"{measured.written} interactions written ({measured.distinct} distinct) for "
            f"{calls} calls: the bench did not ingest what it replayed"
        )
    rate = events / measured.seconds
    cores = measured.cpu / measured.seconds
    out(
        f"[{label}] full processing: events={events} calls={calls} "
        f"seconds={measured.seconds:.3f} events_per_s={rate:.0f} "
        f"calls_per_s={calls / measured.seconds:.0f} bridge_cpu_s={measured.cpu:.3f} "
        f"(user {measured.cpu_user:.3f}, system {measured.cpu_system:.3f}; event loop thread "
        f"{measured.cpu_loop:.3f}) "
        f"cores_used={cores:.2f} events_per_cpu_s={events / measured.cpu:.0f}"
    )
    payload = await asyncio.to_thread(template.repeated, options.repeat)
    parsed = await asyncio.to_thread(bare.panoramisk_parse, payload, BARE_CHUNK)
    if parsed.events != events:
        raise FailedCheck(f"panoramisk parsed {parsed.events} events, the stream has {events}")
    bare_rate = events / parsed.cpu
    out(
        f"[panoramisk] bare parse, same bytes in {BARE_CHUNK}-byte reads: events={events} "
        f"cpu_s={parsed.cpu:.3f} events_per_s={bare_rate:.0f}"
    )
    ours = await asyncio.to_thread(bare.our_parse, payload, BARE_CHUNK)
    out(
        f"[ours] AmiDecoder alone: events_per_s={events / ours.decode_cpu:.0f}; "
        f"AmiDecoder + parse_event: events_per_s={events / ours.cpu:.0f} "
        f"({ours.typed} typed events kept)"
    )
    met_rate = rate >= TARGET_EVENTS_PER_S and cores <= 1.05
    met_share = rate >= TARGET_SHARE_OF_BARE * bare_rate
    out(
        f"[{label}] target >= {TARGET_EVENTS_PER_S:,} events/s fully processed on one core: "
        f"{'MET' if met_rate else 'MISSED'} ({rate:.0f} events/s, bridge CPU {cores:.2f} "
        f"of one core)"
    )
    out(
        f"[{label}] target >= half the bare panoramisk parsing rate "
        f"({TARGET_SHARE_OF_BARE * bare_rate:.0f} events/s): "
        f"{'MET' if met_share else 'MISSED'} ({rate:.0f} events/s = "
        f"{rate / bare_rate:.2f} of {bare_rate:.0f})"
    )
    return met_rate and met_share


async def forget_node(node: str) -> None:
    from redis.asyncio import Redis

    from contact_center.bus.redis import NODES, QUEUES

    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.hdel(NODES, node)
        await redis.hdel(QUEUES, node)
    finally:
        await redis.aclose()


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description="Replay the recorded AMI stream into the real bridge at full speed.",
    )
    parser.add_argument("--stream", type=Path, default=DEFAULT_STREAM)
    parser.add_argument("--repeat", type=int, default=20, help="times the stream is replayed")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--redis", action="store_true", help=f"bus and live state in {REDIS_URL}")
    parser.add_argument(
        "--customers", type=int, default=300, help="demo customers loaded first (0: none)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin the bridge to one CPU")
    parser.add_argument("--profile", type=Path, help="cProfile the measured span into this file")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the replay")
    parser.add_argument(
        "--stall", type=float, default=60.0, help="seconds without a call logged: failed"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return Options(
        stream=args.stream,
        repeat=args.repeat,
        db=args.db,
        redis=args.redis,
        customers=args.customers,
        pin=not args.no_pin,
        profile=args.profile,
        timeout=args.timeout,
        stall=args.stall,
    )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    options = parse_args(argv)
    try:
        asyncio.run(main_async(options))
    except FailedCheck as err:
        print(f"FAILED: {err}", file=sys.stderr)
        raise SystemExit(2) from None
