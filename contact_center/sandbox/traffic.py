"""Steady random call traffic against the sandbox, with agent phones answering.

Calls arrive as a Poisson process at ``rate_per_minute``. Most callers wait for an agent
and talk a while; some give up (abandon) after a random wait. The run stops by itself after
``duration`` seconds of arrivals or ``max_calls`` calls, then waits for calls in progress.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from contact_center.sandbox.sipp import AgentPhone, CallResult, place_call

if TYPE_CHECKING:
    from contact_center.sandbox.asterisk import AsteriskSandbox

log = logging.getLogger(__name__)

AGENT_ENDPOINTS = tuple(f"agent-{n}" for n in range(1001, 1007))
FIRST_PHONE_PORT = 5071
ABANDON_SHARE = 0.15


@dataclasses.dataclass(frozen=True, slots=True)
class TrafficResult:
    placed: int
    outcomes: dict[str, int]
    results: tuple[CallResult, ...]


async def run_traffic(
    sandbox: AsteriskSandbox,
    numbers: Sequence[tuple[str, str]],
    *,
    rate_per_minute: float,
    agents: int,
    duration: float | None,
    max_calls: int = 200,
    queue: str | None = "main",
    seed: int | None = None,
) -> TrafficResult:
    """Place calls from ``numbers`` ((caller number, caller name) pairs) for a while.

    ``agents`` phones (agent-1001 up, at most 6) register and answer; with ``queue`` set
    they are also added to that queue over the CLI (a bridge would do it over AMI, and
    then ``queue=None``). They are removed and stopped at the end, even on error.
    """
    if not numbers:
        raise ValueError("run_traffic needs at least one (number, name) pair")
    if not 0 <= agents <= len(AGENT_ENDPOINTS):
        raise ValueError(f"agents must be 0 to {len(AGENT_ENDPOINTS)}")
    if rate_per_minute <= 0:
        raise ValueError("rate_per_minute must be positive")
    if duration is None and max_calls <= 0:
        raise ValueError("give a duration or a positive max_calls")
    rng = random.Random(seed)
    phones = [
        AgentPhone(
            sandbox,
            endpoint,
            FIRST_PHONE_PORT + index,
            answer_after=rng.uniform(0.5, 2.0),
            talk_seconds=None,
        )
        for index, endpoint in enumerate(AGENT_ENDPOINTS[:agents])
    ]
    results: list[CallResult] = []
    async with contextlib.AsyncExitStack() as stack:
        for phone in phones:
            await stack.enter_async_context(phone)
            if queue is not None:
                await sandbox.cli(f"queue add member {phone.interface} to {queue}")
                stack.push_async_callback(_remove_member, sandbox, phone.interface, queue)
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + duration
        async with asyncio.TaskGroup() as group:
            tasks: list[asyncio.Task[CallResult]] = []
            while len(tasks) < max_calls:
                await asyncio.sleep(rng.expovariate(rate_per_minute / 60.0))
                if deadline is not None and loop.time() > deadline:
                    break
                number, name = numbers[rng.randrange(len(numbers))]
                abandon = rng.random() < ABANDON_SHARE
                tasks.append(
                    group.create_task(
                        place_call(
                            sandbox,
                            caller_number=number,
                            caller_name=name,
                            hold_seconds=rng.uniform(3.0, 20.0),
                            hangup_after=rng.uniform(3.0, 30.0) if abandon else None,
                            timeout=120.0,
                        )
                    )
                )
        results = [task.result() for task in tasks]
    outcomes = collections.Counter(result.outcome for result in results)
    log.info("traffic done: %s calls, %s", len(results), dict(outcomes))
    return TrafficResult(len(results), dict(outcomes), tuple(results))


async def _remove_member(sandbox: AsteriskSandbox, interface: str, queue: str) -> None:
    with contextlib.suppress(Exception):
        await sandbox.cli(f"queue remove member {interface} from {queue}")
