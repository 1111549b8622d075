"""The history benchmark runs end to end at a tiny size, on SQLite and PostgreSQL, and
prints figures that parse; its data set holds exactly what was asked for.

No speed is asserted here: speed is measured by ``python -m bench.history``, not by tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
from pathlib import Path

import pytest

from bench.history.run import main_async, parse_args, schema_head

FIGURES = re.compile(
    r"^\[(?P<db>sqlite|postgresql)\] (?P<what>[^:]+): n=(?P<n>\d+) p50_ms=(?P<p50>[\d.]+) "
    r"p90_ms=(?P<p90>[\d.]+) p99_ms=(?P<p99>[\d.]+) max_ms=(?P<max>[\d.]+)(?P<extra>.*)$"
)
DATA_SET = re.compile(
    r"^\[(?P<db>sqlite|postgresql)\] data set: .* (?P<customers>[\d,]+) customers, "
    r"(?P<numbers>[\d,]+) numbers, (?P<interactions>[\d,]+) interactions, "
)
SHAPE = re.compile(
    r"^\[(?P<db>\w+)\] contacts per customer: p50 \d+, p90 \d+, p99 \d+, max (?P<max>\d+); "
    r"(?P<heavy>[\d,]+) customers with >= 200; (?P<none>[\d,]+) with none$"
)
LINES = (
    "customer_card, random customers",
    "contact_history limit 50, random customers",
    "screen pop (card + history limit 50, one session), random customers",
    "contact_history limit 50, customers with >= 200 contacts",
    "contact_history page 2 (before=cursor), customers with >= 200",
    "screen pop, customers with >= 200 contacts",
    "find_customers by number",
    "find_customers by part of a number (6 digits)",
    "find_customers by name, ASCII",
    "find_customers by name, non-ASCII",
    "due_tasks of an agent",
)


def count_rows(path: Path) -> tuple[int, int, list[str]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        interactions = connection.execute("SELECT count(*) FROM interactions").fetchone()[0]
        by_hand = connection.execute(
            "SELECT count(*) FROM interactions WHERE channel != 'voice' AND linkedid IS NULL"
        ).fetchone()[0]
        indexes = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='index'")
        ]
        return interactions, by_hand, indexes
    finally:
        connection.close()


@pytest.mark.timeout(300)
async def test_tiny_run_prints_parsable_figures(tmp_path: Path) -> None:
    options, databases = parse_args(
        [
            "--customers=300",
            "--interactions=6000",
            "--samples=30",
            "--searches=12",
            "--warmup=5",
            "--db=both",
        ]
    )
    lines: list[str] = []
    options = dataclasses.replace(options, cache_dir=tmp_path, out=lines.append)
    assert databases == ["sqlite", "postgresql"]

    await main_async(options, databases)

    text = "\n".join(lines)
    sets = {m["db"]: m for line in lines if (m := DATA_SET.match(line))}
    assert set(sets) == {"sqlite", "postgresql"}
    for found in sets.values():
        assert (found["customers"], found["numbers"], found["interactions"]) == (
            "300",
            "600",
            "6,000",
        )
    path = tmp_path / f"history-300-6000-seed2026-schema{schema_head()}.sqlite3"
    interactions, by_hand, indexes = await asyncio.to_thread(count_rows, path)
    assert interactions == 6000
    assert 0.10 * 6000 < by_hand < 0.20 * 6000  # about 15% of the customers' contacts
    assert "ix_interactions_customer_started" in indexes
    assert "ix_phone_numbers_customer_id" in indexes  # the card reads a customer's numbers
    # both databases hold the same data set: the same spread of contacts
    shapes = [m.groups()[1:] for line in lines if (m := SHAPE.match(line))]
    assert len(shapes) == 2
    assert shapes[0] == shapes[1]
    assert int(shapes[0][1]) >= 1  # heavy customers, hundreds of contacts each
    for db in ("sqlite", "postgresql"):
        figures = {m["what"]: m for line in lines if (m := FIGURES.match(line)) and m["db"] == db}
        assert list(figures) == list(LINES)
        for what, found in figures.items():
            assert float(found["p50"]) <= float(found["p99"]) <= float(found["max"]), what
            expected = 12 if what.startswith("find_customers") else 30
            if "page 2" not in what:  # heavy customers with more than one page
                assert int(found["n"]) == expected, what
        # what agents type finds somebody; a page holds what the data set says (checked by
        # the benchmark itself, which stops otherwise)
        for what in ("by number", "by name, ASCII"):
            extra = figures[f"find_customers {what}"]["extra"]
            assert extra == " found=12/12", extra
        assert re.search(rf"\[{db}\] screen pop p99 [\d.]+ ms for random customers", text)
    assert "environment: " in text
