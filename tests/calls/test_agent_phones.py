"""Agents' phones from recorded calls: each phone rings, connects and ends once."""

from __future__ import annotations

from contact_center.ami import events as ev
from contact_center.bus.agent_call import AgentCall
from contact_center.calls.agent_phones import AgentPhones
from contact_center.calls.tracker import CallTracker
from tests.calls.test_tracker import recorded, replay


def phones(events: list[ev.AmiEvent]) -> list[AgentCall]:
    """What the bridge publishes for these events (see Bridge._consume)."""
    tracker = CallTracker("n1")
    watch = AgentPhones("n1")
    out: list[AgentCall] = []
    for event in events:
        finished = tracker.handle(event)
        channel = getattr(event, "channel", None)
        if channel is None:
            continue
        call = tracker.call(channel.linkedid) if finished is None else finished
        if call is not None:
            out += watch.follow(call, event.timestamp or 0.0)
    return out


def states(changes: list[AgentCall]) -> dict[tuple[str, str], list[str]]:
    """(linkedid, agent) -> the states that phone went through."""
    out: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        out.setdefault((change.linkedid, change.agent_interface), []).append(change.state)
    return out


def test_an_answered_call_rings_connects_and_ends_on_the_agents_phone() -> None:
    events = recorded("recorded_answered_pl.txt")
    [call] = replay(events)
    changes = phones(events)
    assert states(changes) == {
        (call.linkedid, call.agent_interface): ["ringing", "connected", "ended"]
    }
    ringing = changes[0]
    assert (ringing.customer_id, ringing.queue) == (call.customer_id, "support-pl")
    assert (ringing.route_rule, ringing.route_reason) == (call.route_rule, call.route_reason)
    assert (ringing.caller_number, ringing.caller_name) == (call.caller_number, call.caller_name)
    assert [c.at for c in changes] == sorted(c.at for c in changes)


def test_phones_that_do_not_answer_end_and_only_the_answering_one_connects() -> None:
    events = recorded("recorded_refused_then_answered.txt")
    calls = {call.linkedid: call for call in replay(events)}
    for (linkedid, agent), seen in states(phones(events)).items():
        answered_here = calls[linkedid].agent_interface == agent
        if answered_here:
            assert seen[-3:] == ["ringing", "connected", "ended"], (agent, seen)
            seen = seen[:-3]
        assert seen == ["ringing", "ended"] * (len(seen) // 2), (agent, seen)
        assert "connected" not in seen


def test_hold_shows_on_the_agents_phone() -> None:
    events = recorded("recorded_hold.txt")
    [call] = replay(events)
    assert states(phones(events)) == {
        (call.linkedid, call.agent_interface): [
            "ringing",
            "connected",
            "on_hold",
            "connected",
            "ended",
        ]
    }


def test_an_abandoned_call_reaches_no_phone() -> None:
    events = recorded("recorded_abandoned_and_withheld.txt")
    calls = replay(events)
    abandoned = [c.linkedid for c in calls if c.outcome == "abandoned"]
    assert abandoned
    assert [c for c in phones(events) if c.linkedid in abandoned] == []
