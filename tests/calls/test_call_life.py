"""The whole life of a call, over AMI frames recorded from the sandbox by
tests/tools/record_call_life.py: queue timeout and abandon, refused rings, hold, transfers,
Local channel members; events out of order, repeated, and calls whose end was never seen."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from contact_center.ami import events as ev
from contact_center.calls.tracker import CallTracker, FinishedCall
from tests.calls.test_tracker import recorded, replay


def by_caller(calls: list[FinishedCall]) -> dict[str, FinishedCall]:
    return {call.caller_number: call for call in calls}


def kinds(call: FinishedCall) -> list[tuple[str, str | None]]:
    return [(step.kind, step.agent_interface) for step in call.steps]


def test_queue_timeout_is_not_an_abandon_and_the_abandon_keeps_wait_and_position() -> None:
    calls = by_caller(replay(recorded("recorded_timeout_and_abandon.txt")))
    timeout, abandoned = calls["+48221000001"], calls["+48221000002"]

    # Asterisk also sends QueueCallerAbandon for a timeout: QUEUESTATUS says what it was
    assert (timeout.outcome, timeout.queue, timeout.hangup_by) == ("timeout", "main", None)
    assert timeout.wait_seconds == pytest.approx(4.0, abs=0.05)  # CC_QUEUE_TIMEOUT was 4
    assert [kind for kind, _ in kinds(timeout)] == [
        "arrived",
        "routed",
        "queued",
        "left_queue",
        "queue_exit",
        "hangup",
    ]
    assert timeout.steps[4].detail == {"status": "TIMEOUT"}
    assert timeout.talk_seconds is timeout.answered_at is timeout.hold_seconds is None

    assert (abandoned.outcome, abandoned.hangup_by) == ("abandoned", "caller")
    assert abandoned.wait_seconds == pytest.approx(2.0, abs=0.05)
    [step] = [step for step in abandoned.steps if step.kind == "abandoned"]
    assert step.queue == "main"
    assert step.detail == {"position": 2, "original_position": 2, "hold_time": 2}
    for call in (timeout, abandoned):
        assert call.complete
        assert call.caller_e164 == call.caller_number
        assert call.ring_seconds is None
        assert call.transfers == 0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("LEAVEEMPTY", "left_empty"),
        ("LEAVEUNAVAIL", "left_empty"),
        ("TIMEOUT", "timeout"),
    ],
)
def test_how_the_queue_let_the_caller_go(status: str, outcome: str) -> None:
    """The recorded timeout, as if the queue had emptied (leavewhenempty)."""
    events = []
    for event in recorded("recorded_timeout_and_abandon.txt"):
        channel = getattr(event, "channel", None)
        if channel is not None and channel.variables.get("QUEUESTATUS"):
            variables = dict(channel.variables, QUEUESTATUS=status)
            event = dataclasses.replace(
                event,
                channel=dataclasses.replace(channel, variables=variables),  # type: ignore[call-arg]
            )
        events.append(event)
    calls = by_caller(replay(events))
    assert calls["+48221000001"].outcome == outcome
    assert calls["+48221000001"].steps[-2].detail == {"status": status}
    assert calls["+48221000002"].outcome == "abandoned"  # the caller who hung up


def test_busy_and_declining_phones_then_another_agent_answers() -> None:
    calls = by_caller(replay(recorded("recorded_refused_then_answered.txt")))
    busy, declined = calls["+48221000003"], calls["+48221000004"]

    attempts = [(k, a) for k, a in kinds(busy) if k in {"ringing", "busy", "connected"}]
    # 486 Busy Here four times (a retry every second) until agent-1002 joins and answers
    assert attempts == [
        *[("ringing", "PJSIP/agent-1001"), ("busy", "PJSIP/agent-1001")] * 4,
        ("ringing", "PJSIP/agent-1002"),
        ("connected", "PJSIP/agent-1002"),
    ]
    assert (busy.outcome, busy.agent_interface, busy.hangup_by) == (
        "answered",
        "PJSIP/agent-1002",
        "caller",
    )
    assert busy.ring_seconds == pytest.approx(0.5, abs=0.05)  # agent-1002 answers in 0.5 s
    assert busy.wait_seconds == pytest.approx(3.54, abs=0.05)
    assert busy.talk_seconds == pytest.approx(1.0, abs=0.05)
    assert busy.hold_seconds == 0

    # 603 Decline: rejected, three times, then the caller gives up
    assert [k for k, _ in kinds(declined)].count("rejected") == 3
    assert (declined.outcome, declined.agent_interface) == ("abandoned", None)
    assert declined.wait_seconds == pytest.approx(2.5, abs=0.05)


def test_hold_is_timed_and_taken_out_of_talk() -> None:
    [call] = replay(recorded("recorded_hold.txt"))
    assert (call.outcome, call.agent_interface) == ("answered", "PJSIP/agent-1001")
    assert call.hold_seconds == pytest.approx(2.0, abs=0.05)  # re-INVITE sendonly, sendrecv
    assert call.talk_seconds == pytest.approx(3.0, abs=0.05)  # 5 s on the line, 2 held
    assert call.answered_at is not None
    on_line = (call.ended_at - call.answered_at).total_seconds()
    assert call.talk_seconds + call.hold_seconds == pytest.approx(on_line, abs=0.002)
    assert ("hold", "PJSIP/agent-1001") in kinds(call)
    assert ("unhold", None) in kinds(call)


def test_a_repeated_hold_or_unhold_counts_once() -> None:
    events = recorded("recorded_hold.txt")
    doubled: list[ev.AmiEvent] = []
    for event in events:
        doubled.append(event)
        if isinstance(event, ev.Hold | ev.Unhold):
            doubled.append(event)
    [call] = replay(doubled)
    assert call.hold_seconds == pytest.approx(2.0, abs=0.05)
    assert [k for k, _ in kinds(call)].count("hold") == 1


def test_wrapup_is_the_queues_when_known_and_only_after_an_answered_queue_call() -> None:
    tracker = CallTracker("node1", wrapup={"main": 15})
    calls = by_caller(replay(recorded("recorded_refused_then_answered.txt"), tracker))
    assert calls["+48221000003"].wrapup_seconds == 15
    assert calls["+48221000004"].wrapup_seconds is None  # not answered
    [call] = replay(recorded("recorded_hold.txt"))
    assert call.wrapup_seconds is None  # the tracker was not told


def test_caller_numbers_in_e164_by_the_region() -> None:
    events = recorded("recorded_hold.txt")
    national = [
        dataclasses.replace(
            event,
            channel=dataclasses.replace(event.channel, caller_num="221000006"),  # type: ignore[attr-defined]
        )
        if isinstance(event, ev.Newchannel)
        else event
        for event in events
    ]
    [polish] = replay(national, CallTracker("node1", region="PL"))
    assert (polish.caller_number, polish.caller_e164) == ("221000006", "+48221000006")
    [withheld] = replay(recorded("recorded_abandoned_and_withheld.txt"))[1:]
    assert (withheld.caller_number, withheld.caller_e164) == ("anonymous", None)


def test_blind_transfers_to_an_agent_and_to_a_queue_and_an_attended_transfer() -> None:
    to_agent, to_queue, attended = replay(recorded("recorded_transfers.txt"))
    for call in (to_agent, to_queue, attended):
        # the call stays the first agent's answered call, from queue main, with one transfer
        assert (call.outcome, call.queue, call.agent_interface) == (
            "answered",
            "main",
            "PJSIP/agent-1002",
        )
        assert (call.transfers, call.hangup_by, call.complete) == (1, "caller", True)
        assert call.wait_seconds == pytest.approx(0.51, abs=0.05)

    after = kinds(to_agent)[kinds(to_agent).index(("transferred", "PJSIP/agent-1002")) :]
    assert after == [
        ("transferred", "PJSIP/agent-1002"),
        ("completed", "PJSIP/agent-1002"),
        ("ringing", "PJSIP/agent-1003"),
        ("connected", "PJSIP/agent-1003"),
        ("hangup", None),
    ]
    [blind] = [step for step in to_agent.steps if step.kind == "transferred"]
    assert blind.detail == {"kind": "blind", "to": "1003", "context": "agents"}
    assert to_agent.talk_seconds == pytest.approx(5.0, abs=0.05)

    steps = [(s.kind, s.queue, s.agent_interface) for s in to_queue.steps]
    assert steps[steps.index(("transferred", None, "PJSIP/agent-1002")) + 2 :] == [
        ("queued", "support-en", None),
        ("ringing", "support-en", "PJSIP/agent-1004"),
        ("left_queue", "support-en", None),
        ("connected", "support-en", "PJSIP/agent-1004"),
        ("completed", "support-en", "PJSIP/agent-1004"),
        ("hangup", None, None),
    ]

    # Atxfer: the caller waits on hold while agent-1002 consults agent-1003 (through a Local
    # channel), then talks to agent-1003
    [step] = [step for step in attended.steps if step.kind == "transferred"]
    assert step.detail == {"kind": "attended", "dest_type": "Bridge", "to": "PJSIP/agent-1003"}
    assert ("hold", "PJSIP/agent-1002") in kinds(attended)
    assert attended.hold_seconds == pytest.approx(4.77, abs=0.05)
    assert attended.answered_at is not None
    on_line = (attended.ended_at - attended.answered_at).total_seconds()
    assert attended.talk_seconds + attended.hold_seconds == pytest.approx(on_line, abs=0.002)  # type: ignore[operator]


def test_a_repeated_transfer_event_counts_once() -> None:
    events = recorded("recorded_transfers.txt")
    doubled = [
        twice
        for event in events
        for twice in (
            (event, event)
            if isinstance(event, ev.BlindTransfer | ev.AttendedTransfer)
            else (event,)
        )
    ]
    assert [call.transfers for call in replay(doubled)] == [1, 1, 1]


def test_a_local_channel_member_is_the_phone_it_rings() -> None:
    [call] = replay(recorded("recorded_local_member.txt"))
    assert ("ringing", "Local/1005@agents") in kinds(call)
    assert ("connected", "PJSIP/agent-1005") in kinds(call)
    assert (call.outcome, call.agent_interface, call.hangup_by) == (
        "answered",
        "PJSIP/agent-1005",
        "caller",
    )
    assert call.ring_seconds == pytest.approx(0.54, abs=0.05)


def test_ring_no_answer_twice_then_another_agent_answers() -> None:
    [call] = replay(recorded("recorded_no_answer_then_answered.txt"))
    attempts = [(k, a) for k, a in kinds(call) if k in {"ringing", "no_answer", "connected"}]
    assert attempts == [
        ("ringing", "PJSIP/agent-1004"),
        ("no_answer", "PJSIP/agent-1004"),
        ("ringing", "PJSIP/agent-1004"),
        ("no_answer", "PJSIP/agent-1004"),
        ("ringing", "PJSIP/agent-1005"),
        ("connected", "PJSIP/agent-1005"),
    ]
    assert [s.detail for s in call.steps if s.kind == "no_answer"] == [{"ring_ms": 15000}] * 2
    assert (call.outcome, call.agent_interface) == ("answered", "PJSIP/agent-1005")
    assert call.wait_seconds == pytest.approx(32.54, abs=0.05)
    assert call.ring_seconds == pytest.approx(0.51, abs=0.05)  # of the phone that answered


# --- order and repetition -------------------------------------------------------------------


def _swap_neighbours(events: list[ev.AmiEvent]) -> list[ev.AmiEvent]:
    """Every pair of neighbouring events swapped, but each call's last event stays last."""
    swapped = list(events)
    for i in range(0, len(swapped) - 2, 2):
        if not isinstance(swapped[i + 1], ev.Hangup):
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    return swapped


FIXTURES = [
    "recorded_timeout_and_abandon.txt",
    "recorded_transfers.txt",
    "recorded_local_member.txt",
    "recorded_no_answer_then_answered.txt",
    "recorded_refused_then_answered.txt",
    "recorded_hold.txt",
    "recorded_answered_pl.txt",
    "recorded_abandoned_and_withheld.txt",
    "recorded_ring_first_and_after_hours.txt",
]


def _summary(call: FinishedCall) -> tuple[object, ...]:
    return (
        call.linkedid,
        call.outcome,
        call.queue,
        call.agent_interface,
        call.hangup_by,
        call.transfers,
        call.complete,
        round(call.wait_seconds or 0, 1),
        round(call.talk_seconds or 0, 1),
        round(call.hold_seconds or 0, 1),
    )


@pytest.mark.parametrize("fixture", FIXTURES)
def test_events_out_of_order_give_the_same_calls(fixture: str) -> None:
    events = recorded(fixture)
    expected = sorted(_summary(call) for call in replay(events))
    shuffled = replay(_swap_neighbours(events))
    assert sorted(_summary(call) for call in shuffled) == expected
    for call in shuffled:
        assert all(a.at <= b.at for a, b in zip(call.steps, call.steps[1:], strict=False))


def test_the_queue_join_reported_after_the_first_ring() -> None:
    events = recorded("recorded_no_answer_then_answered.txt")
    join = next(i for i, e in enumerate(events) if isinstance(e, ev.QueueCallerJoin))
    dial = next(i for i, e in enumerate(events) if isinstance(e, ev.DialBegin))
    late = events[:join] + events[join + 1 : dial + 1] + [events[join]] + events[dial + 1 :]
    [expected] = replay(events)
    [call] = replay(late)
    assert _summary(call) == _summary(expected)
    assert not [step for step in call.steps if step.detail.get("direct")]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_event_twice_gives_the_same_calls_once(fixture: str) -> None:
    events = recorded(fixture)
    doubled = [twice for event in events for twice in (event, event)]
    expected = [_summary(call) for call in replay(events)]
    assert [_summary(call) for call in replay(doubled)] == expected


def test_events_after_the_end_start_no_phantom_call() -> None:
    events = recorded("recorded_refused_then_answered.txt")
    tracker = CallTracker("node1")
    assert len(replay(events, tracker)) == 2
    # everything again, caller legs included: the linkedids are finished
    assert replay(events, tracker) == []
    assert tracker.active == 0
    assert tracker.open_linkedids() == set()


def test_a_call_first_seen_mid_way_is_logged_as_incomplete() -> None:
    events = recorded("recorded_hold.txt")
    joined = next(i for i, e in enumerate(events) if isinstance(e, ev.AgentConnect))
    [call] = replay(events[joined:])
    assert (call.outcome, call.agent_interface, call.complete) == (
        "answered",
        "PJSIP/agent-1001",
        False,
    )
    assert call.hold_seconds == pytest.approx(2.0, abs=0.05)


# --- calls whose end the tracker never saw --------------------------------------------------


def _until(events: list[ev.AmiEvent], kind: type[ev.AmiEvent]) -> list[ev.AmiEvent]:
    cut = next(i for i, e in enumerate(events) if isinstance(e, kind))
    return events[: cut + 1]


def test_close_missing_closes_an_answered_call_once_with_what_is_known() -> None:
    events = recorded("recorded_hold.txt")
    seen = _until(events, ev.Hold)
    tracker = CallTracker("node1")
    assert replay(seen, tracker) == []
    [linkedid] = tracker.open_linkedids()
    assert tracker.close_missing({linkedid, "other"}, at=2_000_000_000.0) == []  # still there

    gone_at = (seen[-1].timestamp or 0) + 30
    [call] = tracker.close_missing({"other"}, at=gone_at)
    assert call.linkedid == linkedid
    assert (call.outcome, call.agent_interface, call.queue) == (
        "answered",
        "PJSIP/agent-1001",
        "main",
    )
    assert call.complete is False
    assert call.ended_at == dt.datetime.fromtimestamp(gone_at, dt.UTC)
    # seen: the wait and the ring; not seen: how long they talked and held
    assert call.wait_seconds == pytest.approx(0.51, abs=0.05)
    assert call.ring_seconds == pytest.approx(0.51, abs=0.05)
    assert call.talk_seconds is call.hold_seconds is call.wrapup_seconds is None
    last = call.steps[-1]
    assert last.kind == "closed_unseen"
    assert last.detail["reason"]
    hold_at = dt.datetime.fromtimestamp(seen[-1].timestamp or 0, dt.UTC)
    assert last.detail["last_seen"] == hold_at.isoformat()

    assert tracker.close_missing(set(), at=gone_at + 1) == []  # once
    assert tracker.open_linkedids() == set()
    # what Asterisk says later about it starts nothing
    assert replay(events[len(seen) :], tracker) == []
    assert tracker.active == 0


def test_close_missing_a_caller_still_waiting_is_unknown() -> None:
    events = recorded("recorded_timeout_and_abandon.txt")
    seen = _until(events, ev.QueueCallerJoin)  # the first caller has just joined
    tracker = CallTracker("node1")
    replay(seen, tracker)
    [call] = tracker.close_missing(set(), at=(seen[-1].timestamp or 0) + 10)
    assert (call.outcome, call.queue, call.complete) == ("unknown", "main", False)
    assert call.wait_seconds is call.talk_seconds is call.hangup_by is None
    assert [step.kind for step in call.steps] == ["arrived", "routed", "queued", "closed_unseen"]


def test_close_missing_keeps_the_calls_asterisk_still_has() -> None:
    events = recorded("recorded_timeout_and_abandon.txt")
    seen = _until(events, ev.HangupRequest)  # both callers in the queue
    tracker = CallTracker("node1")
    replay(seen, tracker)
    first, second = sorted(tracker.open_linkedids())
    [closed] = tracker.close_missing({first}, at=(seen[-1].timestamp or 0) + 1)
    assert closed.linkedid == second
    assert tracker.open_linkedids() == {first}
    # the rest of the stream: the first call ends normally, the second stays closed
    [finished] = replay(events[len(seen) :], tracker)
    assert (finished.linkedid, finished.outcome, finished.complete) == (first, "timeout", True)
