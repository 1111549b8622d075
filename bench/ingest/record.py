"""Record the AMI stream the ingest benchmark replays, from the sandbox under real SIP load.

    flock /tmp/contact-center-sandbox.lock python -m bench.ingest.record [--calls 150]

Runs as root (the sandbox is a chroot) and holds nothing itself: wrap it in ``flock`` on the
sandbox lock, as above, so no test run starts a second Asterisk meanwhile. What it does:

1. starts the Asterisk sandbox and a contact center of its own in this process (SQLite in a
   temporary directory, the demo data set of 300 customers, the rulebook below, our real
   bridge answering the dialplan's FastAGI requests), so the calls carry real routing
   decisions in their channel variables;
2. logs in to AMI with plain sockets, as ``tests/tools/record_ami.py`` does, and keeps every
   event frame byte for byte (the banner is kept aside; our login exchange is not kept);
3. registers five agent phones (SIPp): four answer after 0.5 to 2 s (one of them hangs up
   itself after 3 s of talk), the fifth never answers, so callers it rings get
   ``AgentRingNoAnswer`` and go on to another agent;
4. places ``--calls`` calls (SIPp from the trunk), Poisson arrivals at ``--rate`` a minute:
   ~72% to the staffed line (queue ``main``: answered, some after a no-answer), ~13% to a
   line whose queue has nobody (``support-en``: abandoned while waiting), ~15% to three lines
   whose queues are closed now (after hours: message, voicemail, callback); callers are demo
   customers, unknown numbers and withheld ones;
5. waits until every call has ended and the bridge has logged it, stops recording, and
   writes the stream gzipped with a JSON description beside it (counts, banner, command).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import gzip
import json
import logging
import os
import random
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.ingest.stream import DEFAULT_STREAM, describe
from contact_center.bus import Bus
from contact_center.demo import demo_callers, load_demo_data
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.store import save_document
from contact_center.runtime import Database, open_database, open_messaging, run_bridge
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.sandbox.sipp import CallResult
from contact_center.sandbox.traffic import FIRST_PHONE_PORT
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Interaction

log = logging.getLogger("bench.ingest.record")

STAFFED = "800100200"
UNSTAFFED = "800100201"
CLOSED = {"message": "800300401", "voicemail": "800300402", "callback": "800300403"}
RULES = f"""
queues:
  support-uk: {{hours: {{sun: "00:00-00:01"}}, after_hours: message}}
  collections: {{hours: {{sun: "00:00-00:01"}}, after_hours: voicemail}}
  overflow: {{hours: {{sun: "00:00-00:01"}}, after_hours: callback}}
rules:
  - {{name: closed-message, when: {{dialed: ["{CLOSED["message"]}"]}},
      then: {{queue: support-uk, reason: UK line}}}}
  - {{name: closed-voicemail, when: {{dialed: ["{CLOSED["voicemail"]}"]}},
      then: {{queue: collections, reason: Collections line}}}}
  - {{name: closed-callback, when: {{dialed: ["{CLOSED["callback"]}"]}},
      then: {{queue: overflow, reason: Callback line}}}}
  - {{name: unstaffed, when: {{dialed: ["{UNSTAFFED}"]}}, then: {{queue: support-en,
      reason: Line with nobody on it}}}}
"""
"""Everything else goes to ``main`` (CC_DEFAULT_QUEUE), where the agents are."""
QUEUE = "main"
PHONES = (  # endpoint, seconds before answering, talk seconds before the agent hangs up
    ("agent-1001", 0.5, None),
    ("agent-1002", 1.0, None),
    ("agent-1003", 1.5, None),
    ("agent-1004", 2.0, 3.0),
    ("agent-1005", 600.0, None),  # never answers: the queue's 15 s ring timeout passes
)
UNKNOWN = ("+48221234999", "+380441234567", "+447700900123")


class Recorder:
    """Every event frame of one AMI session, byte for byte, until :meth:`stop`."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.banner = b""
        self._stop = asyncio.Event()

    async def run(self, host: str, port: int, user: str, secret: str) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            self.banner = (await reader.readline()).strip()
            login = f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n"
            writer.write(login.encode())
            await writer.drain()
            stopping = asyncio.ensure_future(self._stop.wait())
            try:
                while True:
                    reading = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
                    done, _ = await asyncio.wait(
                        {reading, stopping}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if reading not in done:
                        reading.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await reading
                        return
                    frame = reading.result()
                    if frame.startswith(b"Event: "):
                        self.frames.append(frame)
                    elif b"Response: Error" in frame:
                        raise SystemExit(f"AMI login refused: {frame!r}")
            finally:
                stopping.cancel()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def stop(self) -> None:
        self._stop.set()


class LoggedCalls:
    """Counts the bridge's ``interaction_logged`` messages for one node."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.count = 0
        self._changed = asyncio.Condition()

    async def run(self, bus: Bus) -> None:
        async for message in bus.subscribe():
            if message.topic == "interaction_logged" and message.data.get("node") == self.node:
                async with self._changed:
                    self.count += 1
                    self._changed.notify_all()

    async def wait_for(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.count >= count)


@contextlib.asynccontextmanager
async def phones(sandbox: AsteriskSandbox) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for index, (endpoint, answer_after, talk) in enumerate(PHONES):
            phone = AgentPhone(
                sandbox,
                endpoint,
                FIRST_PHONE_PORT + index,
                answer_after=answer_after,
                talk_seconds=talk,
            )
            await stack.enter_async_context(phone)
            await sandbox.cli(f"queue add member {phone.interface} to {QUEUE}")
            stack.push_async_callback(
                sandbox.cli, f"queue remove member {phone.interface} from {QUEUE}"
            )
        yield


def plan(count: int, rate: float, callers: Sequence[tuple[str, str]], seed: int) -> list[Any]:
    """(delay before the call, caller number, name, dialed, hold seconds, hang up after)."""
    rng = random.Random(seed)
    calls = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.80:
            number, name = callers[rng.randrange(len(callers))]
        elif draw < 0.93:
            number, name = rng.choice(UNKNOWN), ""
        else:
            number, name = "anonymous", ""
        draw = rng.random()
        hangup_after: float | None = None
        if draw < 0.72:
            dialed = STAFFED
            hold = rng.uniform(1.0, 5.0)
            if rng.random() < 0.1:
                hangup_after = rng.uniform(1.0, 4.0)  # gives up if nobody answered by then
        elif draw < 0.85:
            dialed, hold, hangup_after = UNSTAFFED, 1.0, rng.uniform(1.0, 6.0)
        else:
            dialed, hold = rng.choice(list(CLOSED.values())), 4.0
        calls.append((rng.expovariate(rate / 60.0), number, name, dialed, hold, hangup_after))
    return calls


async def traffic(sandbox: AsteriskSandbox, calls: list[Any]) -> list[CallResult]:
    async with asyncio.TaskGroup() as group:
        tasks = []
        for delay, number, name, dialed, hold, hangup_after in calls:
            await asyncio.sleep(delay)
            tasks.append(
                group.create_task(
                    place_call(
                        sandbox,
                        caller_number=number,
                        caller_name=name,
                        dialed=dialed,
                        hold_seconds=hold,
                        hangup_after=hangup_after,
                        timeout=90.0,
                    )
                )
            )
    return [task.result() for task in tasks]


async def logged(database: Database, node: str) -> int:
    async with database.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.node == node)
        )
    return int(count or 0)


async def record(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    base = load_settings({}, state_dir=folder, node="rec")
    sandbox = AsteriskSandbox(base)
    await sandbox.up()
    try:
        secret = (await asyncio.to_thread(sandbox.ami_secret_file().read_text)).strip()
        settings: Settings = load_settings(
            {
                "CC_STATE_DIR": str(folder),
                "CC_NODE": "rec",
                "CC_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'cc.sqlite3'}",
                "CC_AMI_SECRET": secret,
            }
        )
        document = await asyncio.to_thread(load_yaml, RULES)
        async with open_database(settings) as database, open_messaging(settings) as messaging:
            await upgrade(database.engine)
            await load_demo_data(database.sessions, customers=args.customers)
            async with database.sessions() as session, session.begin():
                await save_document(session, document)
            callers = await demo_callers(database.sessions, limit=200)
            async with run_bridge(settings, database, messaging) as bridge:
                await bridge.ami.wait_connected(20.0)
                counting = LoggedCalls(settings.node)
                counter = asyncio.create_task(counting.run(messaging.bus))
                recorder = Recorder()
                recording = asyncio.create_task(
                    recorder.run(settings.ami_host, settings.ami_port, settings.ami_user, secret)
                )
                await asyncio.sleep(1.0)
                async with phones(sandbox):
                    await asyncio.sleep(1.0)
                    results = await traffic(
                        sandbox, plan(args.calls, args.rate, callers, args.seed)
                    )
                    await asyncio.sleep(2.0)
                async with asyncio.timeout(30):
                    await counting.wait_for(len(results))
                await asyncio.sleep(1.0)
                recorder.stop()
                await recording
                counter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await counter
            interactions = await logged(database, "rec")
            async with database.sessions() as session:
                rows = await session.execute(
                    select(Interaction.outcome, func.count())
                    .where(Interaction.node == "rec")
                    .group_by(Interaction.outcome)
                )
                outcomes = {outcome: n for outcome, n in rows}
            version = (await sandbox.status()).version
    finally:
        await sandbox.down()
    data = b"".join(recorder.frames)
    await asyncio.to_thread(write_stream, args.out, data)
    return {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "flock /tmp/contact-center-sandbox.lock python -m bench.ingest.record "
        + " ".join(sys.argv[1:]),
        "asterisk": version,
        "banner": recorder.banner.decode(),
        "sip_calls": len(results),
        "sip_outcomes": dict(collections.Counter(r.outcome for r in results)),
        "interactions_logged_while_recording": interactions,
        "outcomes_logged_while_recording": outcomes,
        **describe(data),
    }


def write_stream(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as out:
        out.write(data)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.record", description=__doc__)
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--rate", type=float, default=45.0, help="new calls a minute")
    parser.add_argument("--customers", type=int, default=300, help="demo customers")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=DEFAULT_STREAM)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("the Asterisk sandbox runs under chroot: run as root")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with tempfile.TemporaryDirectory(prefix="cc-ingest-record-") as folder:
        meta = asyncio.run(record(args, Path(folder)))
    args.out.with_suffix("").with_suffix(".json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(meta, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
