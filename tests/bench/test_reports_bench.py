"""The reports benchmark runs end to end at a small size on PostgreSQL and prints figures
that parse; the month it reports on holds the calls the data set put there.

No speed is asserted here: speed is measured by ``python -m bench.reports``."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bench.reports.run import measure, parse_args

LINE = re.compile(
    r"^month, (?P<what>[^:]+): n=(?P<n>\d+) p50_ms=(?P<p50>[\d.]+) p90_ms=[\d.]+ "
    r"p99_ms=[\d.]+ max_ms=(?P<max>[\d.]+) \((under|OVER) the 1000 ms target\)$"
)
MONTH = re.compile(r"^month \S+ to \S+: (?P<offered>[\d,]+) offered calls, (?P<answered>[\d,]+)")


@pytest.mark.timeout(300)
async def test_small_run_prints_parsable_figures() -> None:
    options = parse_args(
        ["--calls=20000", "--agents=10", "--customers=2000", "--days=90", "--samples=2"]
    )
    lines: list[str] = []
    await measure(dataclasses.replace(options, out=lines.append))
    text = "\n".join(lines)
    assert "data set: 20,000 calls over 90 days, 10 agents, 2,000 customers" in text
    assert "environment: 2 CPUs" in text or "environment: " in text
    [month] = [m for line in lines if (m := MONTH.match(line))]
    offered = int(month["offered"].replace(",", ""))
    # a month of 90 days' calls, less the after-hours and unqueued ones (about 7%)
    assert 0.25 * 20000 * 0.93 < offered < 0.40 * 20000
    figures = {m["what"]: m for line in lines if (m := LINE.match(line))}
    assert list(figures) == [
        "no filter",
        "queue=support-pl",
        "agent=17",
        "tier=vip",
        "hotline=+48800100200",
        "disposition=resolved",
    ]
    for found in figures.values():
        assert int(found["n"]) == 2
        assert float(found["p50"]) <= float(found["max"])
    cpu = re.search(r"backend CPU \(.*\): median (\d+) ms, max (\d+) ms$", text, re.M)
    assert cpu is not None, text
    assert int(cpu[1]) <= int(cpu[2])
