"""The call tracker over AMI frames recorded from the sandbox (tests/fixtures/ami/recorded_*)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from contact_center.ami import events as ev
from contact_center.ami.codec import decode_frames
from contact_center.ami.events import parse_event
from contact_center.calls.tracker import CallTracker, FinishedCall, interface_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"


def recorded(name: str) -> list[ev.AmiEvent]:
    frames = decode_frames((FIXTURES / name).read_bytes())
    return [event for frame in frames if (event := parse_event(frame)) is not None]


def replay(events: list[ev.AmiEvent], tracker: CallTracker | None = None) -> list[FinishedCall]:
    tracker = tracker or CallTracker("node1")
    return [call for event in events if (call := tracker.handle(event)) is not None]


def test_answered_call_from_a_known_customer() -> None:
    tracker = CallTracker("node1")
    [call] = replay(recorded("recorded_answered_pl.txt"), tracker)
    assert tracker.active == 0
    assert call.node == "node1"
    assert call.linkedid == call.uniqueid == "contact-center-1795629627.0"
    assert (call.caller_number, call.caller_name) == ("+48122370862", "Ewa Jabłońska")
    assert call.dialed_number == "800100200"
    assert call.customer_id == 40
    assert (call.route_rule, call.route_reason) == ("language", "Preferred language pl")
    assert call.queue == "support-pl"
    assert call.agent_interface == "PJSIP/agent-1001"
    assert (call.outcome, call.hangup_by) == ("answered", "caller")
    assert call.started_at < call.answered_at < call.ended_at  # type: ignore[operator]
    assert call.wait_seconds == pytest.approx(1.01, abs=0.05)
    assert call.talk_seconds == pytest.approx(2.01, abs=0.05)
    assert [step.kind for step in call.steps] == [
        "arrived",
        "routed",
        "queued",
        "ringing",
        "left_queue",
        "connected",
        "completed",
        "hangup",
    ]
    assert call.steps[0].at == call.started_at
    assert all(a.at <= b.at for a, b in zip(call.steps, call.steps[1:], strict=False))


def test_abandoned_unknown_caller_and_withheld_caller_answered() -> None:
    abandoned, withheld = replay(recorded("recorded_abandoned_and_withheld.txt"))

    assert abandoned.caller_name == "Олена Коваленко"
    assert (abandoned.customer_id, abandoned.route_rule) == (None, "unknown")
    assert (abandoned.queue, abandoned.outcome, abandoned.hangup_by) == (
        "general",
        "abandoned",
        "caller",
    )
    assert abandoned.agent_interface is None
    assert abandoned.answered_at is None
    assert abandoned.talk_seconds is None
    assert abandoned.wait_seconds == pytest.approx(2.0, abs=0.1)
    assert "abandoned" in [step.kind for step in abandoned.steps]

    assert withheld.caller_number == "anonymous"
    assert withheld.caller_name == "<img src=x onerror=alert(1)>"
    assert (withheld.route_rule, withheld.customer_id) == ("withheld", None)
    assert (withheld.outcome, withheld.hangup_by) == ("answered", "agent")
    assert withheld.agent_interface == "PJSIP/agent-1002"
    assert withheld.talk_seconds == pytest.approx(1.5, abs=0.1)


def test_repeated_events_do_not_finish_the_call_twice() -> None:
    events = recorded("recorded_answered_pl.txt")
    hangups = [e for e in events if isinstance(e, ev.Hangup)]
    assert len(replay(events + hangups)) == 1
    assert len(replay(events + events)) == 1


def test_events_of_calls_that_are_not_inbound_are_ignored() -> None:
    events = recorded("recorded_answered_pl.txt")
    # the agent leg alone (its own uniqueid, the caller's linkedid) starts nothing
    agent_leg = [
        e
        for e in events
        if getattr(e, "channel", None) is not None and e.channel.uniqueid != e.channel.linkedid  # type: ignore[attr-defined]
    ]
    assert agent_leg
    assert replay(agent_leg) == []


def test_a_bridge_started_mid_call_still_logs_it() -> None:
    events = recorded("recorded_answered_pl.txt")
    joined = next(i for i, e in enumerate(events) if isinstance(e, ev.QueueCallerJoin))
    [call] = replay(events[joined:])
    assert (call.queue, call.outcome, call.customer_id) == ("support-pl", "answered", 40)
    assert call.started_at == dt.datetime.fromtimestamp(events[joined].timestamp or 0, dt.UTC)


def test_finished_calls_are_frozen() -> None:
    [call] = replay(recorded("recorded_answered_pl.txt"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.outcome = "abandoned"  # type: ignore[misc]


def test_ring_first_missed_then_queue_then_ring_first_answered_then_after_hours() -> None:
    missed, direct, closed = replay(recorded("recorded_ring_first_and_after_hours.txt"))

    assert (missed.outcome, missed.queue, missed.agent_interface) == (
        "answered",
        "vip",
        "PJSIP/agent-1002",
    )
    kinds = [(step.kind, step.agent_interface) for step in missed.steps]
    assert kinds[:5] == [
        ("arrived", None),
        ("routed", None),
        ("ringing", "PJSIP/agent-1001"),
        ("no_answer", "PJSIP/agent-1001"),
        ("queued", None),
    ]
    assert missed.steps[1].queue == "vip"
    assert missed.steps[1].detail == {
        "rule": "key-account",
        "reason": "Key account of Anna Nowak",
        "preferred_agent": "PJSIP/agent-1001",
    }
    assert missed.steps[2].detail == {"direct": True}
    assert missed.steps[3].detail == {"direct": True, "status": "NOANSWER"}
    assert missed.wait_seconds == pytest.approx(5.5, abs=0.3)  # from the first ring

    assert (direct.outcome, direct.agent_interface, direct.queue) == (
        "answered",
        "PJSIP/agent-1001",
        "vip",
    )
    assert [step.kind for step in direct.steps] == [
        "arrived",
        "routed",
        "ringing",
        "connected",
        "hangup",
    ]
    assert direct.wait_seconds == pytest.approx(0.5, abs=0.2)
    assert direct.talk_seconds == pytest.approx(1.0, abs=0.2)

    assert (closed.outcome, closed.queue, closed.agent_interface) == (
        "callback_requested",
        "support-pl",
        None,
    )
    assert closed.route_reason == "Polish; support-pl is closed: callback"
    assert closed.wait_seconds is None
    assert [step.kind for step in closed.steps] == ["arrived", "routed", "hangup"]
    assert closed.steps[1].detail["after_hours"] == "callback"


def test_interface_of_a_channel_name() -> None:
    assert interface_of("PJSIP/agent-1001-0000002a") == "PJSIP/agent-1001"
    assert interface_of("PJSIP/agent-1001") == "PJSIP/agent-1001"
    assert interface_of("Local/100@agents-00000001;1") == "Local/100@agents-00000001;1"
