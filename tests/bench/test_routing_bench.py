"""The routing benchmark runs end to end at a tiny size and prints figures that parse.

No speed is asserted here: speed is measured by ``python -m bench.routing``, not by tests.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bench.routing.run import main_async, parse_args, schema_head

FIGURES = (
    r"decisions=(?P<decisions>\d+) errors=(?P<errors>\d+) p50_ms=(?P<p50>[\d.]+) "
    r"p90_ms=(?P<p90>[\d.]+) p99_ms=(?P<p99>[\d.]+) max_ms=(?P<max>[\d.]+)"
)
UNLOADED = re.compile(
    rf"\[sqlite\] unloaded, 1 call at a time: {FIGURES} decisions_per_s=(?P<rate>\d+)$"
)
OPEN = re.compile(
    rf"\[sqlite\] open loop, (?P<arrivals>[\d.]+) new calls/s \(Poisson\)(?P<what>[^:]*): "
    rf"{FIGURES} max_in_flight=(?P<in_flight>\d+)$"
)
SATURATION = re.compile(
    rf"\[sqlite\] saturation, closed loop of 10 callers \([^)]*\): {FIGURES} "
    rf"decisions_per_s=(?P<rate>\d+)$"
)
LOOKUP = re.compile(r"\[sqlite\] lookup_caller alone, 1 at a time: n=(\d+) p50_ms=([\d.]+) ")
RULES = re.compile(r"\[sqlite\]   capacity: .*; rules: (?P<rules>.+)$")
VERDICT = re.compile(
    r"\[sqlite\] target p99 <= 5 ms at 10 concurrent calls \(open loop, 20\.00 new calls/s, "
    r"(?P<n>\d+) decisions\): (MET|MISSED) \(p99 (?P<p99>[\d.]+) ms\)$"
)


def match(pattern: re.Pattern[str], lines: list[str]) -> list[dict[str, str]]:
    return [m.groupdict() for line in lines if (m := pattern.match(line))]


def ordered(figures: dict[str, str]) -> bool:
    return float(figures["p50"]) <= float(figures["p99"]) <= float(figures["max"])


async def test_tiny_run_on_sqlite_prints_parsable_figures(tmp_path: Path) -> None:
    # 10 calls in progress of 0.5 s each: the target's open loop is 20 new calls a second
    options, databases = parse_args(
        [
            "--customers=2000",
            "--calls=200",
            "--concurrency=10",
            "--lookups=100",
            "--db=sqlite",
            "--call-seconds=0.5",
            "--rates=40",
            "--open-seconds=1",
            "--open-min=20",
        ]
    )
    lines: list[str] = []
    options = dataclasses.replace(options, cache_dir=tmp_path, out=lines.append)
    assert databases == ["sqlite"]

    await main_async(options, databases)

    text = "\n".join(lines)
    assert "[sqlite] data set: built" in text
    assert (tmp_path / f"routing-2000-seed2026-schema{schema_head()}.sqlite3").exists()
    [unloaded] = match(UNLOADED, lines)
    assert int(unloaded["decisions"]) == 50
    assert ordered(unloaded)
    open_loop = match(OPEN, lines)
    assert [(f["arrivals"], int(f["decisions"])) for f in open_loop] == [
        ("20.00", 20),
        ("40.00", 40),
    ]
    assert "compared with the target" in open_loop[0]["what"]
    assert "target" not in open_loop[1]["what"]
    assert all(ordered(f) and f["errors"] == "0" for f in open_loop)
    [saturation] = match(SATURATION, lines)
    assert int(saturation["decisions"]) + int(saturation["errors"]) == 200
    assert int(saturation["decisions"]) > 0
    assert ordered(saturation)
    assert int(saturation["rate"]) > 0
    lookup = next(m for line in lines if (m := LOOKUP.match(line)))
    assert int(lookup[1]) == 100
    [rules] = match(RULES, lines)
    # every decision names its rule; the caller mix (known, unknown, withheld) gives several
    counts = {
        rule: int(n) for rule, n in (part.rsplit(" ", 1) for part in rules["rules"].split(", "))
    }
    assert sum(counts.values()) == int(saturation["decisions"])
    assert len(counts) >= 3
    assert any(re.match(r"environment: \d+ CPUs, CPython 3\.", line) for line in lines)
    # the verdict reads the target's open-loop line, not the saturation one
    [verdict] = match(VERDICT, lines)
    assert verdict["n"] == "20"
    assert verdict["p99"] == open_loop[0]["p99"]
