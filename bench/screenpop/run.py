"""The screen-pop benchmark: from the ring event's arrival at the bridge to the pop's arrival
at the agent's websocket, with N agents connected and calls arriving at R per second.

    python -m bench.screenpop [--agents 50] [--rate 10] [--calls 600] [--customers 2000]
                              [--db sqlite|postgresql|both] [--talk 2.0] [--seed 2026]

The contact center runs as it does in production: one `contact-center serve` process (bridge
and web in one, embedded mode), on SQLite or on PostgreSQL (a throwaway database), with the
demo data set and N extra agents (`bench1`..`benchN`, phones `PJSIP/bench-1`..). This process
plays Asterisk (an AMI server on 127.0.0.1 whose frames are a recorded call from the sandbox,
one per call, see `calls.py`) and the N agents' browsers (N real websocket clients, each
logged in through the login form, connected to /push). Call k rings agent k mod N.

For each call the clock starts when its AgentCalled frame is written to the bridge's AMI
socket (`time.time()`, after the call's earlier frames; loopback delivery takes microseconds)
and stops when the ringing frame of that call, holding the customer card, is read from the
agent's websocket (same clock, same process). The answer and hang-up of the call follow
`--talk` seconds later (their pushes, the interaction's write and the agent state changes load
the server too). A pop that does not hold the right customer's card, or reaches another
agent's socket, fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import re
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from argon2 import PasswordHasher, Type
from markupsafe import escape
from sqlalchemy import select

from bench.common import PG_HOST, PG_PORT, PG_USER, percentile, postgres_database
from bench.ingest.server import BANNER, BOOTED, answer, parse_action
from bench.screenpop.calls import Call, Template, make_call, stamped
from contact_center.accounts import Passwords, create_user
from contact_center.demo import load_demo_data
from contact_center.runtime import open_database
from contact_center.settings import PROJECT_ROOT, load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, PhoneNumber

log = logging.getLogger("bench.screenpop")

PASSWORD = "bench password 2026"
SECRET = secrets.token_urlsafe(16)
AMI_USER = "contact-center"
LINKEDID = re.compile(r'data-linkedid="([^"]+)"')
TARGET_P99_MS = 100.0


@dataclass(frozen=True, slots=True)
class Options:
    agents: int
    rate: float
    calls: int
    customers: int
    talk: float
    seed: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Asterisk:
    """Our AMI server: answers the bridge's actions, writes the calls' frames."""

    writer: asyncio.StreamWriter | None = None
    logged_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        try:
            while True:
                frame = await reader.readuntil(b"\r\n\r\n")
                action = parse_action(frame)
                writer.write(answer(action))
                if action.get("action", "").lower() == "login":
                    if action.get("secret") != SECRET:
                        return
                    writer.write(BOOTED)
                    self.writer = writer
                    self.logged_in.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    def send(self, data: bytes) -> float:
        assert self.writer is not None
        self.writer.write(stamped(data))
        return time.time()


@dataclass
class Agent:
    index: int
    username: str
    socket: aiohttp.ClientWebSocketResponse
    http: aiohttp.ClientSession
    pops: dict[str, tuple[float, str]] = field(default_factory=dict)
    """linkedid -> (arrival time, the frame)."""
    counted: Counter | None = None

    async def read(self) -> None:
        await self._read()
        if self.socket.close_code not in {None, 1000}:  # closed by the server
            log.warning("%s: socket closed (%s)", self.username, self.socket.close_code)

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            arrived = time.time()
            data: str = message.data
            if 'data-state="ringing"' not in data:
                continue
            found = LINKEDID.search(data)
            if found is not None and found[1] not in self.pops:
                self.pops[found[1]] = (arrived, data)
                if self.counted is not None:
                    self.counted.add()


@dataclass
class Counter:
    """Pops read so far; `done` once `expected` of them are in."""

    expected: int
    seen: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self) -> None:
        self.seen += 1
        if self.seen >= self.expected:
            self.done.set()


async def prepare(url: str, options: Options) -> list[tuple[int, str, str]]:
    """Migrate, load the demo data and the bench agents; the callers (id, number, name)."""
    settings = load_settings({}, database_url=url)
    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID))
    async with open_database(settings) as database:
        await upgrade(database.engine)
        await load_demo_data(
            database.sessions, customers=options.customers, password_hash=await cheap.hash(PASSWORD)
        )
        for i in range(1, options.agents + 1):
            await create_user(
                database.sessions,
                cheap,
                username=f"bench{i}",
                password=PASSWORD,
                role="agent",
                display_name=f"Bench Agent {i}",
                interface=f"PJSIP/bench-{i}",
                language=("pl", "uk", "en")[i % 3],
            )
        async with database.sessions() as session:
            rows = (
                await session.execute(
                    select(Customer.id, PhoneNumber.e164, Customer.name)
                    .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
                    .order_by(PhoneNumber.id)
                )
            ).all()
    return [(r[0], r[1], r[2]) for r in rows]


@contextlib.asynccontextmanager
async def center(url: str, folder: Path, ami_port: int) -> AsyncIterator[str]:
    """`contact-center serve` on a free port; its base URL."""
    http_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    env.update(
        CC_NODE="bench",
        CC_STATE_DIR=str(folder),
        CC_DATABASE_URL=url,
        CC_AMI_PORT=str(ami_port),
        CC_AMI_USER=AMI_USER,
        CC_AMI_SECRET=SECRET,
        CC_AGI_PORT=str(free_port()),
        CC_HTTP_PORT=str(http_port),
        CC_LOG_LEVEL="WARNING",
    )
    with (folder / "serve.log").open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "contact_center",
            "serve",
            env=env,
            stdout=output,
            stderr=output,
            cwd=PROJECT_ROOT,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/health/live") as response:
                        if response.status == 200:
                            break
                if process.returncode is not None:
                    raise RuntimeError(f"serve stopped: see {folder / 'serve.log'}")
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("serve did not start within 30 s")
        yield base
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def connect(base: str, index: int) -> Agent:
    origin = {"Origin": base}
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(
        f"{base}/login",
        data={"username": f"bench{index}", "password": PASSWORD, "next": "/agent"},
        headers=origin,
        allow_redirects=False,
    ) as response:
        if response.status != 303:
            raise RuntimeError(f"bench{index} could not log in: {response.status}")
    ws = await http.ws_connect(f"{base}/push", headers=origin, max_msg_size=0)
    return Agent(index, f"bench{index}", ws, http)


async def measure(
    db: str, url: str, folder: Path, options: Options, template: Template
) -> list[str]:
    callers = await prepare(url, options)
    rng = random.Random(options.seed)
    asterisk = Asterisk()
    server = await asyncio.start_server(asterisk.serve, "127.0.0.1", 0)
    ami_port = server.sockets[0].getsockname()[1]
    async with server, center(url, folder, ami_port) as base:
        await asyncio.wait_for(asterisk.logged_in.wait(), 30)
        counted = Counter(options.calls)
        agents: list[Agent] = []
        readers: list[asyncio.Task[None]] = []
        for i in range(1, options.agents + 1):  # each read at once (it answers the pings)
            agents.append(await connect(base, i))
            agents[-1].counted = counted
            readers.append(asyncio.create_task(agents[-1].read()))
        await asyncio.sleep(1.0)  # the first frames (state, tasks) read
        run = f"b{secrets.token_hex(3)}"
        sent: dict[str, tuple[float, Agent, str]] = {}
        later: set[asyncio.Task[None]] = set()

        async def finish(call: Call) -> None:
            await asyncio.sleep(options.talk)
            asterisk.send(call.rest)

        start = time.monotonic()
        for k in range(options.calls):
            delay = start + k / options.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            agent = agents[k % len(agents)]
            customer_id, number, name = rng.choice(callers)
            call = make_call(template, run, k, f"bench-{agent.index}", number, name, customer_id)
            sent[call.linkedid] = (asterisk.send(call.ring), agent, name)
            task = asyncio.create_task(finish(call))
            later.add(task)
            task.add_done_callback(later.discard)
        elapsed = time.monotonic() - start
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(counted.done.wait(), 10)
        await asyncio.gather(*later, return_exceptions=True)
        for agent in agents:
            await agent.socket.close()
            await agent.http.close()
        await asyncio.gather(*readers, return_exceptions=True)

    latencies, missing, wrong = [], 0, 0
    for linkedid, (at, agent, name) in sent.items():
        got = agent.pops.get(linkedid)
        if got is None:
            missing += 1
            log.warning("no pop for call %s on %s's socket", linkedid, agent.username)
            continue
        arrived, frame = got
        if f'class="customer-name">{escape(name)}<' not in frame:
            wrong += 1
        latencies.append((arrived - at) * 1000)
    strays = sum(1 for agent in agents for linkedid in agent.pops if sent[linkedid][1] is not agent)
    values = sorted(latencies)
    p99 = percentile(values, 0.99)
    verdict = "meets" if p99 <= TARGET_P99_MS and not (missing or wrong or strays) else "MISSES"
    lines = [
        f"[{db}] screen pop, AgentCalled written to the bridge -> pop at the agent's websocket: "
        f"n={len(values)} p50_ms={percentile(values, 0.5):.2f} "
        f"p90_ms={percentile(values, 0.9):.2f} "
        f"p99_ms={p99:.2f} max_ms={values[-1] if values else float('nan'):.2f} "
        f"({verdict} p99 <= {TARGET_P99_MS:.0f} ms)",
        f"[{db}] agents={options.agents} calls={options.calls} "
        f"rate={options.calls / elapsed:.2f}/s "
        f"(asked {options.rate}) customers={options.customers} talk={options.talk}s "
        f"missing={missing} wrong_card={wrong} to_other_agents={strays}",
    ]
    if missing or wrong or strays:
        kept = PROJECT_ROOT / "var" / "bench" / f"screenpop-serve-{db}.log"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes((folder / "serve.log").read_bytes())
        raise RuntimeError("; ".join(lines) + f"\nthe server's log: {kept}")
    return lines


async def main_async(options: Options, databases: Sequence[str]) -> list[str]:
    template = Template.load()
    lines: list[str] = []
    for db in databases:
        with tempfile.TemporaryDirectory(prefix="cc-screenpop-") as tmp:
            folder = Path(tmp)
            if db == "sqlite":
                url = f"sqlite+aiosqlite:///{folder / 'cc.sqlite3'}"
                found = await measure(db, url, folder, options, template)
            else:
                async with postgres_database() as name:
                    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
                    found = await measure(db, url, folder, options, template)
        for line in found:
            print(line, flush=True)
        lines += found
    return lines


def parse_args(argv: Sequence[str] | None = None) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--talk", type=float, default=2.0)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    options = Options(args.agents, args.rate, args.calls, args.customers, args.talk, args.seed)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return options, databases


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    options, databases = parse_args(argv)
    asyncio.run(main_async(options, databases))
