"""Agent state over AMI frames recorded from the sandbox (tests/tools/record_agent_state.py):
log-in to two queues, a pause with a reason in all, a queue call in "sales" (wrapuptime 5 s)
and its wrap-up, a pause from Asterisk's console, log-out."""

from __future__ import annotations

import pytest

from contact_center.ami import events as ev
from contact_center.ami.codec import decode_frames
from contact_center.calls.agents import (
    AgentState,
    AgentStates,
    Member,
    QueueState,
    member_from_status,
)
from tests.calls.test_tracker import FIXTURES, recorded

AGENT = "PJSIP/agent-1001"
T0 = 1796284780.0
"""A round second just before the recording began."""


def replay(
    events: list[ev.AmiEvent], machine: AgentStates | None = None
) -> list[tuple[str, str, str, float, tuple[tuple[str, str, str], ...]]]:
    """(event, overall state, reason, since - T0, ((queue, state, reason), ...)) per change."""
    machine = machine or AgentStates("n1")
    out = []
    for event in events:
        for state in machine.handle(event, 0.0):
            assert state.agent_interface == AGENT
            assert state.node == "n1"
            out.append(
                (
                    type(event).__name__,
                    state.state,
                    state.reason,
                    round(state.since - T0, 3),
                    tuple((q.queue, q.state, q.reason) for q in state.queues),
                )
            )
    return out


def sales_wrapup(seconds: int = 5) -> AgentStates:
    machine = AgentStates("n1")
    machine.wrapup = {"sales": seconds}
    return machine


def test_log_in_pause_call_wrap_up_and_log_out() -> None:
    changes = replay(recorded("recorded_agent_state.txt"), sales_wrapup())
    both_available = (("sales", "available", ""), ("support-en", "available", ""))
    lunch = "Przerwa obiadowa"
    assert changes == [
        ("QueueMemberAdded", "available", "", 2.0, (("sales", "available", ""),)),
        ("QueueMemberAdded", "available", "", 2.0, both_available),
        # QueuePause without a queue: Asterisk pauses queue by queue
        (
            "QueueMemberPause",
            "available",
            "",
            2.0,
            (("sales", "available", ""), ("support-en", "paused", lunch)),
        ),
        (
            "QueueMemberPause",
            "paused",
            lunch,
            2.502,
            (("sales", "paused", lunch), ("support-en", "paused", lunch)),
        ),
        (
            "QueueMemberPause",
            "available",
            "",
            3.006,
            (("sales", "paused", lunch), ("support-en", "available", "")),
        ),
        ("QueueMemberPause", "available", "", 3.006, both_available),
        # the phone's device state reaches every queue the agent is in
        (
            "QueueMemberStatus",
            "ringing",
            "",
            3.642,
            (("sales", "available", ""), ("support-en", "ringing", "")),
        ),
        (
            "QueueMemberStatus",
            "ringing",
            "",
            3.642,
            (("sales", "ringing", ""), ("support-en", "ringing", "")),
        ),
        (
            "QueueMemberStatus",
            "ringing",
            "",
            3.642,
            (("sales", "ringing", ""), ("support-en", "on_call", "")),
        ),
        (
            "QueueMemberStatus",
            "on_call",
            "",
            4.148,
            (("sales", "on_call", ""), ("support-en", "on_call", "")),
        ),
        (
            "QueueMemberStatus",
            "on_call",
            "",
            4.148,
            (("sales", "on_call", ""), ("support-en", "available", "")),
        ),
        # hung up: wrap-up in sales (5 s from AgentComplete), free in support-en
        (
            "QueueMemberStatus",
            "wrap_up",
            "",
            5.159,
            (("sales", "wrap_up", ""), ("support-en", "available", "")),
        ),
        # paused from the console (a supervisor): shows like any other pause
        (
            "QueueMemberPause",
            "available",
            "",
            11.193,
            (("sales", "available", ""), ("support-en", "paused", "Coaching")),
        ),
        (
            "QueueMemberRemoved",
            "paused",
            "Coaching",
            11.697,
            (("support-en", "paused", "Coaching"),),
        ),
        ("QueueMemberRemoved", "logged_out", "", 11.697, ()),
    ]


def test_wrap_up_ends_on_time_when_no_event_comes() -> None:
    machine = sales_wrapup()
    events = recorded("recorded_agent_state.txt")
    complete = next(e for e in events if isinstance(e, ev.AgentComplete))
    assert complete.timestamp is not None
    coaching = next(
        e
        for e in events
        if isinstance(e, ev.QueueMemberPause) and e.paused and e.pause_reason == "Coaching"
    )
    replay(events[: events.index(coaching)], machine)  # up to the end of the call
    assert machine.state(AGENT, complete.timestamp + 1).state == "wrap_up"
    end = machine.next_wrapup_end()
    assert end == pytest.approx(complete.timestamp + 5)
    assert machine.expire(end - 0.01) == []
    [after] = machine.expire(end)
    assert after.state == "available"
    assert after.since == end
    assert [q.state for q in after.queues] == ["available", "available"]
    assert machine.next_wrapup_end() is None
    assert machine.expire(end + 10) == []


def test_no_wrap_up_where_the_queue_has_none() -> None:
    changes = replay(recorded("recorded_agent_state.txt"), sales_wrapup(0))
    assert "wrap_up" not in {change[1] for change in changes}


def test_resync_from_a_queue_status_listing() -> None:
    entries = decode_frames((FIXTURES / "recorded_agent_queue_status.txt").read_bytes())
    members = [member_from_status(entry) for entry in entries]
    assert members == [
        Member("support-en", AGENT, "Zofia Łęcka", True, "Przerwa obiadowa", 1),
        Member("sales", AGENT, "Zofia Łęcka", True, "Przerwa obiadowa", 1),
    ]
    machine = AgentStates("n1")
    [state] = machine.resync(entries, 100.0)
    assert (state.state, state.reason, state.since) == ("paused", "Przerwa obiadowa", 100.0)
    assert [q.queue for q in state.queues] == ["sales", "support-en"]
    assert machine.resync(entries, 200.0) == []  # nothing new
    # removed while the link was down: logged out at the next resync
    [gone] = machine.resync([], 300.0)
    assert (gone.state, gone.queues, gone.since) == ("logged_out", (), 300.0)
    assert machine.states(300.0) == []


def test_an_agent_in_another_queue_keeps_taking_its_calls() -> None:
    """Paused in one queue only: available overall (the other queue still rings them)."""
    events = recorded("recorded_agent_state.txt")
    machine = AgentStates("n1")
    [*_, third] = [machine.handle(e, 0.0) for e in events[:4]]
    assert third[0].state == "available"
    assert machine.state("PJSIP/agent-9999", 5.0).state == "logged_out"


def test_a_removal_of_an_unknown_member_changes_nothing() -> None:
    removed = [
        e for e in recorded("recorded_agent_state.txt") if isinstance(e, ev.QueueMemberRemoved)
    ]
    assert AgentStates("n1").handle(removed[0], 0.0) == []


def test_agent_state_round_trips_through_json_and_checks_its_input() -> None:
    state = AgentState(
        AGENT,
        "n1",
        "paused",
        12.5,
        "Przerwa ☕",
        (QueueState("sales", "paused", 12.5, "Przerwa ☕", True, 3, None),),
    )
    assert AgentState.decode(state.encode()) == state
    with pytest.raises(ValueError, match="state must be one of"):
        AgentState(AGENT, "n1", "asleep", 1.0)
    with pytest.raises(ValueError, match="malformed"):
        AgentState.decode('{"agent_interface": "x"}')
    with pytest.raises(ValueError, match="not an object"):
        AgentState.decode("[]")
