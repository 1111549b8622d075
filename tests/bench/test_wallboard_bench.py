"""The wallboard benchmark end to end at a tiny size (a bridge and a web process in split
mode, a few real websocket clients): its figures parse and every marker reached every
client. No speed is asserted here: `python -m bench.wallboard` measures it."""

from __future__ import annotations

import re

import pytest

from bench.wallboard.run import Options, main_async, screen_times

LINE = re.compile(
    r"\[(?P<label>wallboards|agent desks)\] clients=(?P<clients>\d+) samples=(?P<samples>\d+) "
    r"lost=(?P<lost>\d+) p50_ms=[\d.]+ p90_ms=[\d.]+ p99_ms=[\d.]+ max_ms=[\d.]+ "
    r"frames=\d+ MB=[\d.]+$"
)
REPLAYED = re.compile(
    r"replayed: (?P<events>\d+) AMI events and (?P<markers>\d+) markers; "
    r"calls logged by the bridge: (?P<logged>\d+)$"
)


def test_a_marker_is_on_screen_from_when_it_or_a_later_one_shows() -> None:
    assert screen_times({"1": 5.0, "3": 4.0}, 4) == {1: 4.0, 2: 4.0, 3: 4.0}
    assert screen_times({}, 2) == {}


@pytest.mark.timeout(120)
async def test_the_bench_runs_small_and_every_client_sees_every_marker() -> None:
    lines: list[str] = []
    options = Options(boards=3, desks=1, rate=5.0, seconds=3.0, markers=5.0, db="sqlite")
    await main_async(Options(**{**options.__dict__, "out": lines.append}))
    replayed = next(m for m in map(REPLAYED.match, lines) if m)
    assert int(replayed["events"]) > 100
    assert int(replayed["markers"]) == 15
    assert int(replayed["logged"]) > 0
    found = {m["label"]: m for m in map(LINE.match, lines) if m}
    assert set(found) == {"wallboards", "agent desks"}
    assert int(found["wallboards"]["clients"]) == 3
    assert int(found["wallboards"]["samples"]) == 3 * 15
    assert int(found["agent desks"]["samples"]) == 15
    assert int(found["wallboards"]["lost"]) == 0
