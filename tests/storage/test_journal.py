"""The bridge's journal: what is handed over survives the process, what is committed goes,
a torn tail is left out, and the file is rewritten when it holds mostly dead records."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from contact_center.ami import events as ev
from contact_center.calls.tracker import CallTracker
from contact_center.storage import journal as journal_module
from contact_center.storage.journal import Journal, decode_event, encode_event, read_journal
from tests.calls.test_tracker import recorded, replay


def calls_of(events: list[ev.AmiEvent]) -> dict[str, list[ev.AmiEvent]]:
    by_call: dict[str, list[ev.AmiEvent]] = {}
    for event in events:
        channel = getattr(event, "channel", None)
        if channel is not None:
            by_call.setdefault(channel.linkedid, []).append(event)
    return by_call


def journal_all(journal: Journal, events: list[ev.AmiEvent]) -> None:
    for event in events:
        channel = getattr(event, "channel", None)
        if channel is not None:
            journal.event(channel.linkedid, event)


async def test_events_come_back_in_order_and_equal(tmp_path: Path) -> None:
    events = recorded("recorded_answered_pl.txt")
    journal = Journal(tmp_path / "node.journal")
    await journal.start([])
    journal_all(journal, events)
    await journal.close()
    back = await asyncio.to_thread(read_journal, journal.path)
    expected = [e for e in events if getattr(e, "channel", None) is not None]
    assert back.events == expected
    assert back.calls == len(calls_of(expected))
    # replaying them gives the same finished calls as the live stream
    assert replay(back.events) == replay(events)
    mode = stat.S_IMODE((await asyncio.to_thread(os.stat, journal.path)).st_mode)
    assert mode == 0o600


async def test_a_committed_call_is_not_replayed(tmp_path: Path) -> None:
    events = recorded("recorded_abandoned_and_withheld.txt")
    by_call = calls_of(events)
    assert len(by_call) >= 2
    first, *others = by_call
    journal = Journal(tmp_path / "node.journal")
    await journal.start([])
    journal_all(journal, events)
    journal.committed(first)
    await journal.close()
    back = await asyncio.to_thread(read_journal, journal.path)
    assert set(calls_of(back.events)) == set(others)


async def test_records_written_before_a_kill_survive_without_close(tmp_path: Path) -> None:
    """The writer thread hands each batch to the kernel: a process killed without closing
    the journal (SIGKILL) leaves every record it handed over on disk."""
    events = recorded("recorded_answered_pl.txt")
    journal = Journal(tmp_path / "node.journal")
    await journal.start([])
    journal_all(journal, events)
    expected = [e for e in events if getattr(e, "channel", None) is not None]
    for _ in range(500):  # the file, read as a restarted bridge would (no close)
        if (await asyncio.to_thread(read_journal, journal.path)).events == expected:
            break
        await asyncio.sleep(0.01)
    assert (await asyncio.to_thread(read_journal, journal.path)).events == expected
    await journal.close()


async def test_a_torn_last_record_is_left_out(tmp_path: Path) -> None:
    events = [e for e in recorded("recorded_answered_pl.txt") if getattr(e, "channel", None)]
    journal = Journal(tmp_path / "node.journal")
    await journal.start([])
    journal_all(journal, events)
    await journal.close()
    data = await asyncio.to_thread(journal.path.read_bytes)
    await asyncio.to_thread(journal.path.write_bytes, data[:-7])
    back = await asyncio.to_thread(read_journal, journal.path)
    assert back.events == events[:-1]


async def test_no_journal_yet_is_an_empty_one(tmp_path: Path) -> None:
    back = await asyncio.to_thread(read_journal, tmp_path / "missing.journal")
    assert (back.events, back.calls) == ([], 0)


async def test_start_rewrites_the_file_with_the_replayed_events_only(tmp_path: Path) -> None:
    events = recorded("recorded_abandoned_and_withheld.txt")
    journal = Journal(tmp_path / "node.journal")
    await journal.start([])
    journal_all(journal, events)
    first = next(iter(calls_of(events)))
    journal.committed(first)
    await journal.close()
    before = (await asyncio.to_thread(journal.path.stat)).st_size
    back = await asyncio.to_thread(read_journal, journal.path)
    again = Journal(journal.path)
    await again.start(back.events)
    await again.close()
    assert (await asyncio.to_thread(journal.path.stat)).st_size < before
    assert (await asyncio.to_thread(read_journal, journal.path)).events == back.events


async def test_the_file_is_compacted_when_mostly_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "COMPACT_MIN_BYTES", 20_000)
    events = [e for e in recorded("recorded_answered_pl.txt") if getattr(e, "channel", None)]
    linkedid = events[0].channel.linkedid  # type: ignore[attr-defined]
    journal = Journal(tmp_path / "node.journal")
    await journal.start([])
    for _ in range(30):  # the same call again and again, committed each time
        journal_all(journal, events)
        journal.committed(linkedid)
        await asyncio.sleep(0.01)  # a batch of its own for the writer thread
    journal_all(journal, events[:3])  # one call still open at the end
    await journal.close()
    size = (await asyncio.to_thread(journal.path.stat)).st_size
    one_call = sum(len(r) for r in _record_sizes(events))
    assert size < 20_000 + 2 * one_call < 30 * one_call  # without compaction: 30 calls
    back = await asyncio.to_thread(read_journal, journal.path)
    assert back.events == events[:3]


def _record_sizes(events: list[ev.AmiEvent]) -> list[bytes]:
    return [encode_event(e) for e in events]


def test_a_recovered_open_call_stays_open_until_asterisk_says(tmp_path: Path) -> None:
    """What the bridge does with a replay: calls cut short stay open in the tracker, and
    close_missing closes them, marked incomplete, when Asterisk no longer has them."""
    events = [e for e in recorded("recorded_answered_pl.txt") if getattr(e, "channel", None)]
    cut = events[: len(events) // 2]
    tracker = CallTracker("n1")
    assert replay(cut, tracker) == []
    assert tracker.active == 1
    [closed] = tracker.close_missing(set(), 2e9)
    assert closed.complete is False


def test_every_recorded_event_survives_encoding() -> None:
    for name in (
        "recorded_answered_pl.txt",
        "recorded_hold.txt",
        "recorded_refused_then_answered.txt",
        "recorded_timeout_and_abandon.txt",
    ):
        for event in recorded(name):
            assert decode_event(encode_event(event)) == event
