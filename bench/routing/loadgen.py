"""The load generator: behaves like Asterisk calling ``AGI(agi://127.0.0.1:<port>/route)``.

Run as its own process (``python -m bench.routing.loadgen``) so its CPU does not share the
server's event loop. Each call opens a TCP connection, sends the ``agi_*`` environment,
answers every command with ``200 result=1`` and ends when the server closes the connection:
the routing decision is complete then. Latency is measured from just before connecting to
that close. Two ways to make calls:

- closed loop (``--concurrency C``): C callers, each starting its next call as soon as the
  previous one ends. This measures saturation: latency is about C / throughput.
- open loop (``--rate R``): calls arrive as a Poisson process of R calls per second,
  whatever the server is doing, as calls arrive at a call center.

The first ``--warmup`` calls are not counted.

The callers' numbers come from a JSON file (a list of strings); the result is one JSON
object on stdout: latencies in microseconds, the measured wall time and the error count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path

OK = b"200 result=1\n"
HOST = "127.0.0.1"
CALL_TIMEOUT = 10.0


def environment(port: int, call: int, caller: str) -> bytes:
    """The environment Asterisk 22 sends, for one call from ``caller``."""
    uniqueid = f"1767225600.{call}"
    env = {
        "agi_network": "yes",
        "agi_network_script": "route",
        "agi_request": f"agi://{HOST}:{port}/route",
        "agi_channel": f"PJSIP/trunk-{call:08x}",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid,
        "agi_version": "22.1.0",
        "agi_callerid": caller or "unknown",
        "agi_calleridname": "Zażółć Gęślą Jaźń" if call % 3 else "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": "223950100",
        "agi_rdnis": "unknown",
        "agi_context": "cc-inbound",
        "agi_extension": "s",
        "agi_priority": "3",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": str(140000000000 + call),
    }
    return b"".join(f"{key}: {value}\n".encode() for key, value in env.items()) + b"\n"


ROUTE_COMMAND = b'SET VARIABLE CC_ROUTE "'
RULE_FIELD = 8
"""The rule's name is the last field of CC_ROUTE (see contact_center/routing/agi_route.py)."""


def rule_of(line: bytes) -> str:
    """The rule's name in a ``SET VARIABLE CC_ROUTE "..."`` line."""
    quoted = line.rstrip(b"\n")[len(ROUTE_COMMAND) : -1].decode()
    value = re.sub(r"\\(.)", r"\1", quoted)
    fields = value.split("^", RULE_FIELD)
    return fields[RULE_FIELD] if len(fields) > RULE_FIELD else ""


async def one_call(port: int, call: int, caller: str) -> tuple[int, int, str]:
    """One call: (latency in microseconds, commands answered, the rule that decided)."""
    payload = environment(port, call, caller)
    start = time.perf_counter_ns()
    reader, writer = await asyncio.open_connection(HOST, port)
    commands = 0
    rule = ""
    try:
        writer.write(payload)
        while True:
            line = await reader.readline()
            if not line:
                break
            commands += 1
            if line.startswith(ROUTE_COMMAND):
                rule = rule_of(line)
            writer.write(OK)
        elapsed = time.perf_counter_ns() - start
    finally:
        writer.close()
    return elapsed // 1000, commands, rule


async def run(
    port: int, callers: list[str], concurrency: int, calls: int, warmup: int, max_seconds: float
) -> dict[str, object]:
    latencies: list[int] = []
    commands: list[int] = []
    rules: list[str] = []
    errors = 0
    next_call = 0
    total = warmup + calls
    deadline = time.monotonic() + max_seconds
    measured_start = 0.0
    measured_end = 0.0
    started = asyncio.Event()

    async def caller_loop() -> None:
        nonlocal next_call, errors, measured_start, measured_end
        while next_call < total and time.monotonic() < deadline:
            call = next_call
            next_call += 1
            if call == warmup:
                measured_start = time.perf_counter()
                started.set()
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    latency, answered, rule = await one_call(
                        port, call, callers[call % len(callers)]
                    )
            except (OSError, TimeoutError):
                errors += 1
                continue
            if call >= warmup:
                latencies.append(latency)
                commands.append(answered)
                rules.append(rule)
                measured_end = time.perf_counter()

    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(caller_loop())
    return {
        "latencies_us": latencies,
        "commands": sum(commands),
        "rules": rules,
        "errors": errors,
        "seconds": max(measured_end - measured_start, 1e-9),
        "complete": len(latencies) == calls,
    }


async def run_open(
    port: int, callers: list[str], rate: float, calls: int, warmup: int, max_seconds: float
) -> dict[str, object]:
    """Poisson arrivals at ``rate`` per second; each call runs in its own task."""
    rng = random.Random(f"bench-routing-arrivals:{rate}")
    latencies: list[int] = []
    commands = 0
    rules: list[str] = []
    errors = 0
    in_flight = 0
    max_in_flight = 0
    deadline = time.monotonic() + max_seconds

    async def call_once(call: int) -> None:
        nonlocal commands, errors, in_flight, max_in_flight
        in_flight += 1
        max_in_flight = max(max_in_flight, in_flight)
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                latency, answered, rule = await one_call(port, call, callers[call % len(callers)])
        except (OSError, TimeoutError):
            if call >= warmup:
                errors += 1
            return
        finally:
            in_flight -= 1
        if call >= warmup:
            latencies.append(latency)
            commands += answered
            rules.append(rule)

    start = time.perf_counter()
    measured_start = start
    arrival = start
    async with asyncio.TaskGroup() as tasks:
        for call in range(warmup + calls):
            arrival += rng.expovariate(rate)
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            if call == warmup:
                measured_start = time.perf_counter()
            tasks.create_task(call_once(call))
    return {
        "latencies_us": latencies,
        "commands": commands,
        "rules": rules,
        "errors": errors,
        "seconds": max(time.perf_counter() - measured_start, 1e-9),
        "complete": len(latencies) == calls,
        "max_in_flight": max_in_flight,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--callers", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: calls per second")
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    callers = json.loads(args.callers.read_text(encoding="utf-8"))
    if args.rate > 0:
        result = asyncio.run(
            run_open(args.port, callers, args.rate, args.calls, args.warmup, args.max_seconds)
        )
    else:
        result = asyncio.run(
            run(args.port, callers, args.concurrency, args.calls, args.warmup, args.max_seconds)
        )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
