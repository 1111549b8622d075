"""The tracker after a gap: Asterisk's channel list closes, marks and completes calls."""

from __future__ import annotations

from contact_center.ami import events as ev
from contact_center.calls.tracker import CallTracker, sip_display_name
from tests.calls.test_tracker import recorded, replay


def caller_events() -> list[ev.AmiEvent]:
    return [e for e in recorded("recorded_answered_pl.txt") if getattr(e, "channel", None)]


def first_channel(events: list[ev.AmiEvent]) -> ev.ChannelSnapshot:
    channel: ev.ChannelSnapshot = events[0].channel  # type: ignore[attr-defined]
    return channel


def entry(channel: ev.ChannelSnapshot, **values: str) -> dict[str, str]:
    return {
        "Event": "CoreShowChannel",
        "Channel": channel.name,
        "Uniqueid": channel.uniqueid,
        "Linkedid": channel.linkedid,
        "Context": channel.context,
        "Exten": channel.exten,
        "CallerIDNum": channel.caller_num,
        "CallerIDName": channel.caller_name,
        "Duration": "00:00:07",
        **values,
    }


def test_a_call_gone_from_asterisk_is_closed_once_as_unknown() -> None:
    events = caller_events()
    tracker = CallTracker("n1")
    replay(events[:5], tracker)
    [closed] = tracker.resync([], 2e9)
    assert (closed.outcome, closed.complete) == ("unknown", False)
    assert closed.steps[-1].kind == "closed_unseen"
    assert tracker.resync([], 2e9 + 1) == []
    assert tracker.active == 0


def test_a_call_still_up_is_followed_on_but_marked_incomplete() -> None:
    events = caller_events()
    cut = len(events) // 3
    tracker = CallTracker("n1")
    replay(events[:cut], tracker)
    caller = first_channel(events)
    assert tracker.resync([entry(caller)], events[cut].timestamp or 0.0) == []
    [call] = replay(events[cut:], tracker)
    [whole] = replay(events)
    assert call.outcome == whole.outcome == "answered"
    assert call.agent_interface == whole.agent_interface
    assert whole.complete
    assert not call.complete
    assert "gap" in [step.kind for step in call.steps]


def test_a_caller_bridged_to_an_agent_was_answered_meanwhile() -> None:
    events = caller_events()
    tracker = CallTracker("n1")
    replay(events[:3], tracker)
    caller = first_channel(events)
    agent = {
        "Channel": "PJSIP/agent-1002-0000002a",
        "Uniqueid": "contact-center-1.99",
        "Linkedid": caller.linkedid,
        "BridgeId": "b-1",
    }
    tracker.resync([entry(caller, BridgeId="b-1"), agent], 2e9)
    [closed] = tracker.resync([], 2e9 + 30)
    assert closed.outcome == "answered"
    assert closed.agent_interface == "PJSIP/agent-1002"
    assert not closed.complete


def test_a_caller_that_came_while_away_is_started_from_its_age() -> None:
    events = caller_events()
    caller = first_channel(events)
    tracker = CallTracker("n1")
    assert tracker.resync([entry(caller, Duration="00:01:05")], 2_000_000_000.0) == []
    assert tracker.is_open(caller.linkedid)
    [closed] = tracker.resync([], 2_000_000_100.0)
    assert closed.started_at.timestamp() == 2_000_000_000.0 - 65
    assert not closed.complete


def test_channels_that_are_not_inbound_callers_start_nothing() -> None:
    tracker = CallTracker("n1")
    agent_only = {
        "Channel": "PJSIP/agent-1001-00000001",
        "Uniqueid": "x.1",
        "Linkedid": "x.1",
        "Context": "agents",
        "Duration": "00:00:03",
    }
    assert tracker.resync([agent_only], 2e9) == []
    assert tracker.active == 0


def test_a_sip_display_name_comes_without_its_quoted_pairs() -> None:
    assert sip_display_name("PJSIP/trunk-00000001", '\\"><script>x</script>') == (
        '"><script>x</script>'
    )
    assert sip_display_name("PJSIP/trunk-00000001", "a \\\\ b") == "a \\ b"
    assert sip_display_name("PJSIP/trunk-00000001", "Олена Коваленко") == "Олена Коваленко"
    # not SIP: kept as Asterisk has it
    assert sip_display_name("IAX2/peer-1", '\\"x') == '\\"x'
