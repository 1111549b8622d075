"""The production stack of docker/, built and run for real: two Asterisk nodes with their
bridges, two web processes behind HAProxy, PostgreSQL and Redis. SIPp calls come in on both
nodes as the carrier; every call is logged exactly once with its node; `docker compose down`
then `up` keeps every record and the stack takes calls again."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docker.stack import Stack, docker_ready

LOCK = "/tmp/contact-center-docker.lock"
CALLERS = {
    "node1": ["600100001", "600100002", "600100003"],
    "node2": ["600200001", "600200002", "600200003"],
}
SIPP_IP = {"node1": "172.30.41.241", "node2": "172.30.41.242"}
QUERY = (
    "SELECT node, caller_number, linkedid FROM interactions "
    "WHERE caller_number LIKE '6002%' OR caller_number LIKE '6001%' ORDER BY caller_number"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if os.geteuid() != 0:
        pytest.skip("the docker stack test runs dockerd's images as root: run the suite as root")
    problem = docker_ready()
    if problem:
        pytest.fail(f"docker cannot run the stack: {problem}")
    work = tmp_path_factory.mktemp("docker")
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        box = Stack.create(work)
        box.down(volumes=True)  # a run killed half-way left its containers
        try:
            started = time.monotonic()
            box.build()
            print(f"images built in {time.monotonic() - started:.0f} s")
            started = time.monotonic()
            box.up()
            print(f"stack up in {time.monotonic() - started:.0f} s")
            yield box
        except BaseException:
            print(box.logs())
            raise
        finally:
            box.down(volumes=True)


def place_on_both_nodes(stack: Stack, work: Path, callers: dict[str, list[str]]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(stack.place_calls, work, node, SIPP_IP[node], numbers)
            for node, numbers in callers.items()
        ]
        outcomes = [outcome for future in futures for outcome in future.result()]
    # nobody answers: every caller waits in the queue, then hangs up
    assert outcomes == ["abandoned"] * sum(map(len, callers.values())), outcomes


@pytest.mark.timeout(2400)
def test_calls_on_both_nodes_logged_once_and_kept_across_down_up(
    stack: Stack, tmp_path: Path
) -> None:
    status, ready = stack.get_json("/health/ready")
    assert status == 200, ready
    deadline = time.monotonic() + 30
    while {n["node"] for n in ready["nodes"] if n["ami_connected"]} != {"node1", "node2"}:
        assert time.monotonic() < deadline, f"both nodes' AMI links never showed: {ready}"
        time.sleep(1)
        status, ready = stack.get_json("/health/ready")

    place_on_both_nodes(stack, tmp_path, CALLERS)
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
    again = {"node1": ["600100004"], "node2": ["600200004"]}
    place_on_both_nodes(stack, tmp_path, again)
    after = stack.wait_for_rows(QUERY, 8)
    assert sorted((node, number) for node, number, _ in after) == sorted(
        [*expected, ("node1", "600100004"), ("node2", "600200004")]
    ), after
