"""The ingest benchmark replays the committed stream end to end at a tiny size and prints
figures that parse; the repetitions it builds are new calls, not the same ones again.

No speed is asserted here: speed is measured by ``python -m bench.ingest``, not by tests.
"""

from __future__ import annotations

import dataclasses
import re

from bench.ingest.run import main_async, parse_args
from bench.ingest.stream import DEFAULT_STREAM, Template, calls, describe, load

HEADER = re.compile(
    r"ingest benchmark: stream\.ami\.gz: (?P<events>[\d,]+) events, (?P<calls>[\d,]+) calls, "
    r"\d+ s of traffic per repetition; 2 repetitions = (?P<total>[\d,]+) events, "
    r"(?P<total_calls>[\d,]+) calls, [\d.]+ MB; database sqlite, bus memory$"
)
CHECK = re.compile(
    r"\[sqlite\] interactions written: (?P<written>\d+) of (?P<expected>\d+) expected "
    r"\((?P<calls>\d+) calls x 2 repetitions\), distinct linkedids (?P<distinct>\d+), "
    r"logged messages (?P<logged>\d+): OK$"
)
FULL = re.compile(
    r"\[sqlite\] full processing: events=(?P<events>\d+) calls=(?P<calls>\d+) "
    r"seconds=(?P<seconds>[\d.]+) events_per_s=(?P<rate>\d+) calls_per_s=(?P<call_rate>\d+) "
    r"bridge_cpu_s=(?P<cpu>[\d.]+) \(user [\d.]+, system [\d.]+; event loop thread "
    r"(?P<loop>[\d.]+)\) cores_used=(?P<cores>[\d.]+) "
    r"events_per_cpu_s=\d+$"
)
BARE = re.compile(
    r"\[panoramisk\] bare parse, same bytes in 65536-byte reads: events=(?P<events>\d+) "
    r"cpu_s=[\d.]+ events_per_s=(?P<rate>\d+)$"
)
OURS = re.compile(
    r"\[ours\] AmiDecoder alone: events_per_s=\d+; AmiDecoder \+ parse_event: "
    r"events_per_s=\d+ \((?P<typed>\d+) typed events kept\)$"
)
VERDICTS = (
    re.compile(
        r"\[sqlite\] target >= 10,000 events/s fully processed on one core: (MET|MISSED) "
        r"\((?P<rate>\d+) events/s, bridge CPU [\d.]+ of one core\)$"
    ),
    re.compile(
        r"\[sqlite\] target >= half the bare panoramisk parsing rate \(\d+ events/s\): "
        r"(MET|MISSED) \((?P<rate>\d+) events/s = [\d.]+ of (?P<bare>\d+)\)$"
    ),
)


def one(pattern: re.Pattern[str], lines: list[str]) -> dict[str, str]:
    [found] = [m.groupdict() for line in lines if (m := pattern.match(line))]
    return found


def test_the_recorded_stream_has_every_kind_of_call() -> None:
    about = describe(load(DEFAULT_STREAM))
    names = about["event_names"]
    assert about["calls"] >= 100
    for event in ("QueueCallerJoin", "AgentConnect", "AgentRingNoAnswer", "QueueCallerAbandon"):
        assert names.get(event, 0) > 0, event
    # after-hours calls never join a queue: fewer joins than calls
    assert names["QueueCallerJoin"] < about["calls"]


def test_each_repetition_is_new_calls_with_later_times() -> None:
    data = load(DEFAULT_STREAM)
    template = Template.of(data)
    assert template.repetition(0) == data
    twice = template.repeated(2)
    assert calls(twice) == 2 * calls(data) == 2 * template.calls
    first, second = template.repetition(0), template.repetition(1)
    ids = re.compile(rb"^Linkedid: (.*)\r$", re.M)
    assert not set(ids.findall(first)) & set(ids.findall(second))
    stamps = re.compile(rb"^Timestamp: ([\d.]+)\r$", re.M)
    assert max(map(float, stamps.findall(first))) < min(map(float, stamps.findall(second)))
    # nothing but ids and times changed: the frames are as long as before, give or take digits
    assert first.count(b"\r\n") == second.count(b"\r\n")


async def test_tiny_run_prints_parsable_figures() -> None:
    options = parse_args(["--repeat=2", "--no-pin", "--timeout=120"])
    lines: list[str] = []
    options = dataclasses.replace(options, out=lines.append)

    await main_async(options)

    header = one(HEADER, lines)
    per_rep_events = int(header["events"].replace(",", ""))
    per_rep_calls = int(header["calls"].replace(",", ""))
    assert int(header["total"].replace(",", "")) == 2 * per_rep_events
    check = one(CHECK, lines)
    assert int(check["written"]) == int(check["distinct"]) == int(check["logged"])
    assert int(check["written"]) == int(check["expected"]) == 2 * per_rep_calls
    full = one(FULL, lines)
    assert int(full["events"]) == 2 * per_rep_events
    assert int(full["calls"]) == 2 * per_rep_calls
    assert float(full["seconds"]) > 0
    assert 0 < float(full["loop"]) <= float(full["cpu"]) + 0.01
    rate = int(full["events"]) / float(full["seconds"])
    assert abs(int(full["rate"]) - rate) <= 0.01 * rate + 1
    bare = one(BARE, lines)
    assert int(bare["events"]) == int(full["events"])
    assert int(bare["rate"]) > 0
    assert int(one(OURS, lines)["typed"]) > 0
    rate_verdict, share_verdict = (one(pattern, lines) for pattern in VERDICTS)
    assert rate_verdict["rate"] == share_verdict["rate"] == full["rate"]
    assert share_verdict["bare"] == bare["rate"]
    assert any(re.match(r"environment: \d+ CPUs, CPython 3\.", line) for line in lines)
