"""The routing benchmark runs end to end at a tiny size and prints figures that parse.

No speed is asserted here: speed is measured by ``python -m bench.routing``, not by tests.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bench.routing.run import main_async, parse_args

FIGURES = re.compile(
    r"\[sqlite\] fastagi real, (?P<phase>\d+ callers?): concurrency=(?P<concurrency>\d+) "
    r"decisions=(?P<decisions>\d+) errors=(?P<errors>\d+) p50_ms=(?P<p50>[\d.]+) "
    r"p90_ms=(?P<p90>[\d.]+) p99_ms=(?P<p99>[\d.]+) max_ms=(?P<max>[\d.]+) "
    r"decisions_per_s=(?P<rate>\d+)$"
)
LOOKUP = re.compile(r"\[sqlite\] lookup_caller alone, 1 at a time: n=(\d+) p50_ms=([\d.]+) ")
RULES = re.compile(r"\[sqlite\]   commands per call ([\d.]+); rules: (?P<rules>.+)$")


async def test_tiny_run_on_sqlite_prints_parsable_figures(tmp_path: Path) -> None:
    options, databases = parse_args(
        ["--customers=2000", "--calls=200", "--concurrency=10", "--lookups=100", "--db=sqlite"]
    )
    lines: list[str] = []
    options = dataclasses.replace(options, cache_dir=tmp_path, out=lines.append)
    assert databases == ["sqlite"]

    await main_async(options, databases)

    text = "\n".join(lines)
    assert "[sqlite] data set: built" in text
    assert (tmp_path / "routing-2000-seed2026.sqlite3").exists()
    figures = [m.groupdict() for line in lines if (m := FIGURES.match(line))]
    assert [f["concurrency"] for f in figures] == ["1", "10"]
    concurrent = figures[1]
    assert int(concurrent["decisions"]) + int(concurrent["errors"]) == 200
    assert int(concurrent["decisions"]) > 0
    assert float(concurrent["p50"]) <= float(concurrent["p99"]) <= float(concurrent["max"])
    assert int(concurrent["rate"]) > 0
    lookup = next(m for line in lines if (m := LOOKUP.match(line)))
    assert int(lookup[1]) == 100
    rules = next(m for line in lines if (m := RULES.match(line)))
    # every decision names its rule; the caller mix (known, unknown, withheld) gives several
    counts = {
        rule: int(n) for rule, n in (part.rsplit(" ", 1) for part in rules["rules"].split(", "))
    }
    assert sum(counts.values()) == int(concurrent["decisions"])
    assert len(counts) >= 3
    assert any(re.match(r"environment: \d+ CPUs, CPython 3\.", line) for line in lines)
    assert any("target p99 <= 5 ms" in line for line in lines)
