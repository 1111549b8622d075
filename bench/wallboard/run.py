"""Wallboard benchmark: event-to-screen latency with many connected clients under load.

    python -m bench.wallboard [--boards 180] [--desks 20] [--rate 10] [--seconds 60]
                              [--markers 10] [--db postgresql|sqlite]

The contact center runs as in production's split mode: a bridge process and a web process
(`python -m contact_center bridge|web`), PostgreSQL (a throwaway database) and Redis
(database 11, emptied before and after). The bridge's AMI peer is this process: it answers
like an idle Asterisk, then replays the recorded AMI stream of bench/ingest (real calls
through the sandbox, every repetition made new calls) paced by its timestamps so that
`--rate` calls start per second. Among those events it sends, `--markers` times a second,
a marker: a QueueMemberPause of one more agent phone with the reason ``bench-m<seq>``, which
the bridge turns into an agent.state like any other; the web process pushes it to every
wallboard (agent row and queue tile) and to that agent's desks.

The clients are a separate process (`bench/wallboard/clients.py`): `--boards` wallboards on
/wallboard/push as a supervisor and `--desks` agent desks on /push as the marker's agent,
each a real websocket. Latency is from the moment the marker is written to the bridge's AMI
socket to the moment each client's socket hands over the frame that shows it (both on
CLOCK_MONOTONIC, one clock for every process of the machine): one figure per marker per
client, ending when the client first shows that marker or a later one (markers close
together may reach a screen as one frame that shows the later; the screen is right about
both from then on). A marker after which a client showed nothing counts as lost and fails
the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bench.common import percentile, postgres_database
from bench.ingest.server import BANNER, BOOTED, answer, parse_action
from bench.ingest.stream import DEFAULT_STREAM, Template, load

REDIS_URL = "redis://127.0.0.1:6379/11"
TARGET_P99_MS = 500.0
PASSWORD = "bench-wallboard-password"
MARKER_PHONE = "PJSIP/bench-marker"
MARKER_QUEUE = "bench"
REPORT_LIMIT = 1 << 28
"""The clients' report is one JSON line: every marker each socket saw."""
_TIMESTAMP = re.compile(rb"^Timestamp: (\d+\.\d+)\r$", re.M)


@dataclass(frozen=True)
class Options:
    boards: int = 180
    desks: int = 20
    rate: float = 10.0
    seconds: float = 60.0
    markers: float = 10.0
    db: str = "postgresql"
    mode: str = "split"
    """split: a bridge and a web process over Redis; embedded: `serve`, one process."""
    out: Callable[[str], None] = print


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def marker_frame(seq: int) -> bytes:
    return (
        "Event: QueueMemberPause\r\nPrivilege: agent,all\r\n"
        f"Timestamp: {time.time():.6f}\r\nQueue: {MARKER_QUEUE}\r\n"
        f"MemberName: Bench Marker\r\nInterface: {MARKER_PHONE}\r\n"
        f"StateInterface: {MARKER_PHONE}\r\nMembership: dynamic\r\nPenalty: 0\r\n"
        "CallsTaken: 0\r\nLastCall: 0\r\nLastPause: 0\r\nInCall: 0\r\nStatus: 1\r\n"
        f"Paused: 1\r\nPausedReason: bench-m{seq}\r\nWrapuptime: 0\r\n\r\n"
    ).encode()


def member_added() -> bytes:
    return (
        "Event: QueueMemberAdded\r\nPrivilege: agent,all\r\n"
        f"Timestamp: {time.time():.6f}\r\nQueue: {MARKER_QUEUE}\r\n"
        f"MemberName: Bench Marker\r\nInterface: {MARKER_PHONE}\r\n"
        f"StateInterface: {MARKER_PHONE}\r\nMembership: dynamic\r\nPenalty: 0\r\n"
        "CallsTaken: 0\r\nLastCall: 0\r\nLastPause: 0\r\nInCall: 0\r\nStatus: 1\r\n"
        "Paused: 0\r\nPausedReason: \r\nWrapuptime: 0\r\n\r\n"
    ).encode()


def paced(payload: bytes, speed: float) -> list[tuple[float, bytes]]:
    """The stream's frames with the second (from the start) each is due at."""
    frames = [f + b"\r\n\r\n" for f in payload.split(b"\r\n\r\n") if f.strip()]
    due: list[tuple[float, bytes]] = []
    first: float | None = None
    last = 0.0
    for frame in frames:
        found = _TIMESTAMP.search(frame)
        if found is not None:
            stamp = float(found.group(1))
            first = stamp if first is None else first
            last = max(last, (stamp - first) / speed)
        due.append((last, frame))
    return due


class AmiPeer:
    """The bridge's Asterisk: answers its actions, then the paced stream and the markers."""

    def __init__(self, frames: list[tuple[float, bytes]], markers: float, seconds: float) -> None:
        self.frames, self.markers, self.seconds = frames, markers, seconds
        self.sent: dict[int, float] = {}
        self.go = asyncio.Event()
        self.done = asyncio.Event()
        self.logged_in = asyncio.Event()
        self.stream_frames = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lock = asyncio.Lock()

        async def send(data: bytes) -> None:
            async with lock:
                writer.write(data)
                await writer.drain()

        async def read() -> None:
            while True:
                try:
                    frame = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                action = parse_action(frame)
                await send(answer(action))
                if action.get("action", "").lower() == "login":
                    await send(BOOTED)
                    await send(member_added())
                    self.logged_in.set()

        reading = asyncio.create_task(read())
        try:
            writer.write(BANNER)
            await self.go.wait()
            await self._stream(send)
            self.done.set()
            await reading
        finally:
            reading.cancel()
            writer.close()

    async def _stream(self, send: Callable[[bytes], Any]) -> None:
        start = time.monotonic()
        next_marker, seq, index = 0.0, 0, 0
        while True:
            now = time.monotonic() - start
            if now >= self.seconds:
                return
            if next_marker <= now:
                seq += 1
                self.sent[seq] = time.monotonic()
                await send(marker_frame(seq))
                next_marker += 1.0 / self.markers
                continue
            batch = []
            while index < len(self.frames) and self.frames[index][0] <= now:
                batch.append(self.frames[index][1])
                index += 1
            if batch:
                self.stream_frames += len(batch)
                await send(b"".join(batch))
                continue
            due = next_marker
            if index < len(self.frames):
                due = min(due, self.frames[index][0])
            await asyncio.sleep(max(0.0, min(due, self.seconds) - now))


@contextlib.asynccontextmanager
async def database(db: str, folder: Path) -> AsyncIterator[str]:
    if db == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
        return
    async with postgres_database() as name:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def prepare(url: str) -> None:
    """Schema, the marker's queue, a supervisor and the marker's agent (cheap hashes)."""
    from argon2 import PasswordHasher, Type
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from contact_center.accounts import Passwords, create_user
    from contact_center.storage.db import upgrade_in_thread
    from contact_center.storage.models import Queue

    await asyncio.to_thread(upgrade_in_thread, url, "head")
    engine = await asyncio.to_thread(create_async_engine, url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        passwords = Passwords(
            PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
        )
        for username, role, interface in (
            ("bench-boss", "supervisor", None),
            ("bench-agent", "agent", MARKER_PHONE),
        ):
            await create_user(
                sessions,
                passwords,
                username=username,
                password=PASSWORD,
                role=role,
                display_name=username,
                interface=interface,
            )
        async with sessions() as session, session.begin():
            session.add(Queue(name=MARKER_QUEUE, display_name="Bench"))
    finally:
        await engine.dispose()


async def log_in(url: str, username: str) -> str:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            url + "/login",
            data={"username": username, "password": PASSWORD, "next": "/"},
            headers={"Origin": url},
            allow_redirects=False,
        )
        if response.status != 303:
            raise RuntimeError(f"login of {username} failed: {response.status}")
        cookie = response.cookies.get("cc_session")
        if cookie is None:
            raise RuntimeError("no session cookie")
        return cookie.value


async def start_process(
    args: Sequence[str], env: dict[str, str], log: Path
) -> asyncio.subprocess.Process:
    handle = await asyncio.to_thread(log.open, "wb")
    try:
        return await asyncio.create_subprocess_exec(
            *args, env=env, stdout=handle, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        handle.close()


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def wait_ready(url: str, node: str, within: float = 30.0) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(within):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url + "/health/ready") as response:
                    body = await response.json()
                    if any(n["node"] == node and n["ami_connected"] for n in body.get("nodes", [])):
                        return
            await asyncio.sleep(0.2)


async def count_logged(url: str) -> int:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from contact_center.storage.models import Interaction

    engine = await asyncio.to_thread(create_async_engine, url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count(Interaction.id)))).scalar_one())
    finally:
        await engine.dispose()


async def watch_bus(seen: dict[int, float]) -> None:
    """When each marker's agent.state reaches the Redis bus (what the bridge's part is)."""
    from contact_center.bus.redis import CHANNEL

    redis = Redis.from_url(REDIS_URL)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(CHANNEL)
        async for message in pubsub.listen():
            now = time.monotonic()
            if message.get("type") != "message":
                continue
            for found in re.finditer(rb"bench-m(\d+)", message["data"]):
                seen.setdefault(int(found.group(1)), now)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        await redis.aclose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def environment_line() -> str:
    load1, load5, _ = os.getloadavg()
    return (
        f"environment: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average before the run {load1:.2f} (1 min) {load5:.2f} (5 min)"
    )


async def main_async(options: Options) -> bool:
    out = options.out
    data = await asyncio.to_thread(load, DEFAULT_STREAM)
    template = await asyncio.to_thread(Template.of, data)
    recorded_rate = template.calls / template.time_span
    speed = options.rate / recorded_rate
    repeat = max(1, int(options.seconds * options.rate / template.calls) + 1)
    payload = await asyncio.to_thread(template.repeated, repeat)
    frames = await asyncio.to_thread(paced, payload, speed)
    out(
        f"wallboard benchmark: {options.boards} wallboards + {options.desks} agent desks, "
        f"{options.rate:g} calls/s for {options.seconds:g} s (the recorded stream x{speed:.1f}), "
        f"{options.markers:g} markers/s; "
        + (
            f"split mode: bridge + web processes, {options.db}, Redis"
            if options.mode == "split"
            else f"embedded mode: one serve process, {options.db}, memory bus"
        )
    )
    out(environment_line())
    node = f"bench-{secrets.token_hex(3)}"
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    peer = AmiPeer(frames, options.markers, options.seconds)
    server = await asyncio.start_server(peer.serve, "127.0.0.1", 0)
    ami_port = server.sockets[0].getsockname()[1]
    processes: list[asyncio.subprocess.Process] = []
    try:
        with tempfile.TemporaryDirectory(prefix="cc-bench-wallboard-") as folder:
            async with database(options.db, Path(folder)) as db_url:
                await prepare(db_url)
                http_port = free_port()
                url = f"http://127.0.0.1:{http_port}"
                env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
                env |= {
                    "CC_NODE": node,
                    "CC_STATE_DIR": folder,
                    "CC_DATABASE_URL": db_url,
                    "CC_AMI_PORT": str(ami_port),
                    "CC_AMI_SECRET": "bench",
                    "CC_AGI_PORT": str(free_port()),
                    "CC_BRIDGE_HTTP_PORT": str(free_port()),
                    "CC_HTTP_PORT": str(http_port),
                    "CC_LOG_LEVEL": "WARNING",
                }
                if options.mode == "split":
                    env["CC_REDIS_URL"] = REDIS_URL
                python = sys.executable
                roles = ("bridge", "web") if options.mode == "split" else ("serve",)
                for role in roles:
                    log = Path(folder) / f"{role}.log"
                    processes.append(
                        await start_process([python, "-m", "contact_center", role], env, log)
                    )
                try:
                    await wait_ready(url, node)
                except TimeoutError as err:
                    logs = [(Path(folder) / f"{r}.log").read_text() for r in roles]
                    raise RuntimeError(
                        "the contact center did not start:\n" + "\n".join(logs)
                    ) from err
                board_cookie = await log_in(url, "bench-boss")
                desk_cookie = await log_in(url, "bench-agent")
                clients = await asyncio.create_subprocess_exec(
                    python,
                    "-m",
                    "bench.wallboard.clients",
                    "--url",
                    url,
                    "--board-cookie",
                    board_cookie,
                    "--desk-cookie",
                    desk_cookie,
                    "--boards",
                    str(options.boards),
                    "--desks",
                    str(options.desks),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=REPORT_LIMIT,
                )
                assert clients.stdout is not None
                assert clients.stdin is not None
                line = await asyncio.wait_for(clients.stdout.readline(), 90)
                if line.strip() != b"ready":
                    raise RuntimeError(f"the clients did not connect: {line!r}")
                await asyncio.sleep(1.0)
                pids = {role: p.pid for role, p in zip(roles, processes, strict=True)}
                pids["clients"] = clients.pid
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                on_bus: dict[int, float] = {}
                watcher = (
                    asyncio.create_task(watch_bus(on_bus)) if options.mode == "split" else None
                )
                await asyncio.sleep(0.2)
                peer.go.set()
                await asyncio.wait_for(peer.done.wait(), options.seconds + 30)
                await asyncio.sleep(1.0)  # the last markers' frames
                cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
                clients.stdin.close()
                report = json.loads(await asyncio.wait_for(clients.stdout.readline(), 60))
                if watcher is not None:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher
                await clients.wait()
                logged = await count_logged(db_url)
                for process in processes:
                    await stop_process(process)
    finally:
        for process in processes:
            await stop_process(process)
        server.close()
        await redis.flushdb()
        await redis.aclose()
    out(
        "CPU seconds during the run: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
        + f" (of {options.seconds + 1:g} s)"
    )
    if on_bus:
        bridge_part = sorted(
            (on_bus[seq] - sent) * 1000 for seq, sent in peer.sent.items() if seq in on_bus
        )
        out(
            f"[bridge] AMI socket to the Redis bus (the marker's agent.state): "
            f"samples={len(bridge_part)} p50_ms={percentile(bridge_part, 0.5):.1f} "
            f"p99_ms={percentile(bridge_part, 0.99):.1f}"
        )
    return summarize(options, peer, report, logged, out)


def screen_times(seen: dict[str, float], last: int) -> dict[int, float]:
    """When the screen first showed marker k or a later one: from then on it is right about
    event k (two markers close together may reach the screen as one frame with the later
    reason, which is the screen being right, not a marker lost)."""
    first = {int(k): v for k, v in seen.items()}
    shown: dict[int, float] = {}
    earliest = float("inf")
    for seq in range(last, 0, -1):
        earliest = min(earliest, first.get(seq, float("inf")))
        if earliest != float("inf"):
            shown[seq] = earliest
    return shown


def summarize(
    options: Options,
    peer: AmiPeer,
    report: list[dict[str, Any]],
    logged: int,
    out: Callable[[str], None],
) -> bool:
    ok = True
    out(
        f"replayed: {peer.stream_frames} AMI events and {len(peer.sent)} markers; "
        f"calls logged by the bridge: {logged}"
    )
    for kind in ("board", "desk"):
        sockets = [r for r in report if r["kind"] == kind]
        if not sockets:
            continue
        latencies: list[float] = []
        lost = 0
        for socket in sockets:
            shown = screen_times(socket["seen"], max(peer.sent, default=0))
            for seq, sent in peer.sent.items():
                if seq in shown:
                    latencies.append((shown[seq] - sent) * 1000)
                else:
                    lost += 1
        latencies.sort()
        frames = sum(s["frames"] for s in sockets)
        size = sum(s["bytes"] for s in sockets)
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        label = "wallboards" if kind == "board" else "agent desks"
        out(
            f"[{label}] clients={len(sockets)} samples={len(latencies)} lost={lost} "
            f"p50_ms={p50:.1f} p90_ms={percentile(latencies, 0.9):.1f} p99_ms={p99:.1f} "
            f"max_ms={latencies[-1] if latencies else float('nan'):.1f} "
            f"frames={frames} MB={size / 1e6:.1f}"
        )
        met = bool(latencies) and lost == 0 and p99 <= TARGET_P99_MS
        out(
            f"[{label}] target p99 <= {TARGET_P99_MS:.0f} ms with no marker lost: "
            f"{'MET' if met else 'MISSED'}"
        )
        ok = ok and met
    return ok


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.wallboard", description=__doc__)
    parser.add_argument("--boards", type=int, default=Options.boards)
    parser.add_argument("--desks", type=int, default=Options.desks)
    parser.add_argument("--rate", type=float, default=Options.rate, help="calls per second")
    parser.add_argument("--seconds", type=float, default=Options.seconds)
    parser.add_argument("--markers", type=float, default=Options.markers, help="per second")
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default=Options.db)
    parser.add_argument("--mode", choices=("split", "embedded"), default=Options.mode)
    args = parser.parse_args(argv)
    return Options(
        boards=args.boards,
        desks=args.desks,
        rate=args.rate,
        seconds=args.seconds,
        markers=args.markers,
        db=args.db,
        mode=args.mode,
    )


def main(argv: Sequence[str] | None = None) -> None:
    ok = asyncio.run(main_async(parse_args(argv)))
    raise SystemExit(0 if ok else 1)
