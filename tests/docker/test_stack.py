"""The production stack of docker/, built and run for real: two Asterisk nodes with their
bridges, two web processes behind HAProxy, PostgreSQL and Redis. SIPp calls come in on both
nodes as the carrier; every call is logged exactly once with its node; `docker compose down`
then `up` keeps every record and the stack takes calls again."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.docker.stack import Stack

# numbers no demo customer has (the stack holds the demo data set): unknown callers, who go
# to the main queue, where nobody answers in this test
CALLERS = {
    "node1": ["999100001", "999100002", "999100003"],
    "node2": ["999200001", "999200002", "999200003"],
}
QUERY = (
    "SELECT node, caller_number, linkedid FROM interactions "
    "WHERE caller_number LIKE '9991%' OR caller_number LIKE '9992%' ORDER BY caller_number"
)


def place_on_both_nodes(stack: Stack, callers: dict[str, list[str]]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(stack.place_calls, node, numbers) for node, numbers in callers.items()
        ]
        outcomes = [outcome for future in futures for outcome in future.result()]
    # nobody answers: every caller waits in the queue, then hangs up
    assert outcomes == ["abandoned"] * sum(map(len, callers.values())), outcomes


@pytest.mark.timeout(2400)
def test_calls_on_both_nodes_logged_once_and_kept_across_down_up(stack: Stack) -> None:
    status, ready = stack.get_json("/health/ready")
    assert status == 200, ready
    deadline = time.monotonic() + 30
    while {n["node"] for n in ready["nodes"] if n["ami_connected"]} != {"node1", "node2"}:
        assert time.monotonic() < deadline, f"both nodes' AMI links never showed: {ready}"
        time.sleep(1)
        status, ready = stack.get_json("/health/ready")

    place_on_both_nodes(stack, CALLERS)
    rows = stack.wait_for_rows(QUERY, 6)
    time.sleep(2)  # a call logged twice would show up now
    rows = stack.sql(QUERY)
    expected = sorted((node, n) for node, numbers in CALLERS.items() for n in numbers)
    assert sorted((node, number) for node, number, _ in rows) == expected, rows
    linkedids = [linkedid for _, _, linkedid in rows]
    assert len(set(linkedids)) == len(linkedids), rows
    for node, _, linkedid in rows:
        # the node's systemname prefixes its call ids: two nodes' calls never collide
        assert linkedid.startswith(f"{node}-"), rows

    stack.down()
    stack.up()
    assert stack.sql(QUERY) == rows

    # and the stack takes calls again on both nodes
    again = {"node1": ["999100004"], "node2": ["999200004"]}
    place_on_both_nodes(stack, again)
    after = stack.wait_for_rows(QUERY, 8)
    assert sorted((node, number) for node, number, _ in after) == sorted(
        [*expected, ("node1", "999100004"), ("node2", "999200004")]
    ), after


def until(what: str, check: Callable[[], bool], started: float, within: float) -> None:
    """Wait for check() to hold, at most `within` seconds after `started` (monotonic)."""
    while not check():
        assert time.monotonic() - started < within, f"{what}: not within {within} s"
        time.sleep(0.2)
    print(f"{what}: {time.monotonic() - started:.1f} s")


@pytest.mark.timeout(300)
def test_readiness_follows_asterisk_database_and_redis(stack: Stack) -> None:
    """A stopped Asterisk, PostgreSQL or Redis turns the affected readiness endpoints to
    not-ready within five seconds of the stop, and back when it returns."""

    def bridge(node: str) -> int:
        return stack.ready_inside(f"bridge-{node}", 8081)

    def web() -> int:
        return stack.get_json("/health/ready")[0]

    assert bridge("node1") == 200
    started = time.monotonic()
    stack.compose("stop", "asterisk-node1")
    until("bridge-node1 not ready without Asterisk", lambda: bridge("node1") == 503, started, 5)
    assert bridge("node2") == 200  # the other node is not affected
    assert web() == 200  # nor are the web processes
    started = time.monotonic()
    stack.compose("start", "asterisk-node1")
    until("bridge-node1 ready with Asterisk back", lambda: bridge("node1") == 200, started, 30)

    for service in ("redis", "postgres"):
        started = time.monotonic()
        stack.compose("stop", service)
        until(f"web not ready without {service}", lambda: web() == 503, started, 5)
        until(f"bridge not ready without {service}", lambda: bridge("node2") == 503, started, 5)
        started = time.monotonic()
        stack.compose("start", service)
        until(f"web ready with {service} back", lambda: web() == 200, started, 30)
        until(f"bridge ready with {service} back", lambda: bridge("node2") == 200, started, 30)
