"""The screen-pop benchmark runs end to end at a tiny size (a real `serve` process, real
websocket clients, the recorded call's AMI frames) and prints figures that parse; every call
popped on its own agent's socket with its customer's card (the run fails otherwise).

No speed is asserted here: speed is measured by ``python -m bench.screenpop``."""

from __future__ import annotations

import re

import pytest

from bench.screenpop.run import main_async, parse_args

pytestmark = pytest.mark.timeout(180)

FIGURES = re.compile(
    r"^\[sqlite\] screen pop, [^:]+: n=(?P<n>\d+) p50_ms=[\d.]+ p90_ms=[\d.]+ p99_ms=[\d.]+ "
    r"max_ms=[\d.]+ \((meets|MISSES) p99 <= 100 ms\)$"
)
COUNTS = re.compile(
    r"^\[sqlite\] agents=3 calls=8 rate=[\d.]+/s \(asked 10.0\) customers=60 talk=0.5s "
    r"missing=0 wrong_card=0 to_other_agents=0$"
)


async def test_a_tiny_run_pops_every_call_and_prints_figures() -> None:
    options, databases = parse_args(
        ["--agents", "3", "--calls", "8", "--customers", "60", "--talk", "0.5", "--db", "sqlite"]
    )
    assert databases == ["sqlite"]
    figures, counts = await main_async(options, databases)
    found = FIGURES.match(figures)
    assert found is not None, figures
    assert found["n"] == "8"
    assert COUNTS.match(counts), counts
