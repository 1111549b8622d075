"""parse_event over hand-written (and, later, recorded) Asterisk 22 frames."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from contact_center.ami import events as ev
from contact_center.ami.codec import decode_frames
from contact_center.ami.events import EVENT_NAMES, parse_event

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"


def load(name: str) -> list[dict[str, str]]:
    """Every frame of one capture: CRLF or LF line ends, banner or none."""
    return decode_frames((FIXTURES / name).read_bytes())


def by_event(frames: list[dict[str, str]], name: str) -> list[ev.AmiEvent]:
    found = [parse_event(f) for f in frames if f.get("Event") == name]
    assert found, f"no {name} frame in the fixture"
    assert all(e is not None for e in found)
    return [e for e in found if e is not None]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.name)
def test_every_known_event_in_every_capture_parses(path: Path) -> None:
    frames = decode_frames(path.read_bytes())
    assert frames
    known = [f for f in frames if f.get("Event", "").lower() in EVENT_NAMES]
    for frame in known:
        event = parse_event(frame)
        assert event is not None, frame
        assert type(event).__name__.lower() == frame["Event"].lower()
        assert event.timestamp is None or event.timestamp > 1e9


def test_newchannel_keeps_a_polish_caller_name() -> None:
    (event,) = by_event(load("queue_call_pl.txt"), "Newchannel")
    assert isinstance(event, ev.Newchannel)
    assert event.timestamp == pytest.approx(1718093110.104522)
    channel = event.channel
    assert channel.name == "PJSIP/trunk-00000001"
    assert channel.uniqueid == channel.linkedid == "1718093110.1"
    assert channel.state == "Down"
    assert channel.caller_num == "+48221234567"
    assert channel.caller_name == "Zażółć Gęślą Jaźń"
    assert channel.connected_num == "<unknown>"
    assert (channel.context, channel.exten) == ("from-trunk", "800100200")
    assert channel.variables == {}


def test_chan_variables_in_both_spellings() -> None:
    (newstate,) = by_event(load("queue_call_pl.txt"), "Newstate")
    assert isinstance(newstate, ev.Newstate)
    assert newstate.channel.variables == {"CC_CUSTOMER_ID": "4711", "CC_SEGMENT": "gold"}
    (newchannel,) = by_event(load("queue_abandon_ua.txt"), "Newchannel")
    assert isinstance(newchannel, ev.Newchannel)
    assert newchannel.channel.caller_name == "Олена Коваленко"
    assert newchannel.channel.variables == {"CC_CUSTOMER_ID": "99", "CC_NOTE": "a=b"}


def test_chan_variables_come_unescaped() -> None:
    """Asterisk C-escapes ChanVariable values (ast_escape_c); seen on Asterisk 22 with a
    routing rule named ``... "x" ...``, which arrived as ``... \\"x\\" ...``."""
    frame = {
        "Event": "Newstate",
        "Uniqueid": "1.1",
        "Linkedid": "1.1",
        "ChanVariable(CC_ROUTE_RULE)": 'Coll ^ 2, ${SHELL(id)} \\"x\\" (y); |z \\\\ \\n',
        "ChanVariable": "CC_NOTE=it\\'s \\?\\t",
        "CallerIDName": '\\\\\\"><script>alert(1)</script> \\\\ Zażółć',
        "ConnectedLineName": 'Jan \\"JJ\\"',
    }
    event = parse_event(frame)
    assert isinstance(event, ev.Newstate)
    assert event.channel.variables == {
        "CC_ROUTE_RULE": 'Coll ^ 2, ${SHELL(id)} "x" (y); |z \\ \n',
        "CC_NOTE": "it's ?\t",
    }
    # what PJSIP kept of the SIP display name, quoted-pair and all (see the tracker)
    assert event.channel.caller_name == '\\"><script>alert(1)</script> \\ Zażółć'
    assert event.channel.connected_name == 'Jan "JJ"'


def test_dial_and_agent_events_carry_the_agent_channel_as_dest() -> None:
    frames = load("queue_call_pl.txt")
    (dial,) = by_event(frames, "DialBegin")
    assert isinstance(dial, ev.DialBegin)
    assert dial.channel is not None
    assert dial.channel.uniqueid == "1718093110.1"
    assert dial.dest is not None
    assert dial.dest.uniqueid == "1718093110.2"
    assert dial.dest.linkedid == "1718093110.1"
    assert dial.dest.connected_name == "Zażółć Gęślą Jaźń"
    assert dial.dial_string == "agent1"
    (end,) = by_event(frames, "DialEnd")
    assert isinstance(end, ev.DialEnd)
    assert end.dial_status == "ANSWER"
    (called,) = by_event(frames, "AgentCalled")
    assert isinstance(called, ev.AgentCalled)
    assert (called.queue, called.interface, called.member_name) == (
        "general",
        "PJSIP/agent1",
        "Olena Kovalenko",
    )
    assert called.dest is not None
    assert called.dest.name == "PJSIP/agent1-00000002"
    (connect,) = by_event(frames, "AgentConnect")
    assert isinstance(connect, ev.AgentConnect)
    assert (connect.hold_time, connect.ring_time) == (4, 3)
    (complete,) = by_event(frames, "AgentComplete")
    assert isinstance(complete, ev.AgentComplete)
    assert (complete.hold_time, complete.talk_time, complete.reason) == (4, 56, "caller")


def test_queue_caller_events() -> None:
    frames = load("queue_call_pl.txt")
    (join,) = by_event(frames, "QueueCallerJoin")
    assert isinstance(join, ev.QueueCallerJoin)
    assert (join.queue, join.position, join.count) == ("general", 1, 1)
    (leave,) = by_event(frames, "QueueCallerLeave")
    assert isinstance(leave, ev.QueueCallerLeave)
    assert (leave.position, leave.count) == (1, 0)
    frames = load("queue_abandon_ua.txt")
    (abandon,) = by_event(frames, "QueueCallerAbandon")
    assert isinstance(abandon, ev.QueueCallerAbandon)
    assert (abandon.position, abandon.original_position, abandon.hold_time) == (1, 2, 30)
    (noanswer,) = by_event(frames, "AgentRingNoAnswer")
    assert isinstance(noanswer, ev.AgentRingNoAnswer)
    assert noanswer.ring_time == 15000
    assert noanswer.dest is not None
    assert noanswer.dest.caller_name == "Jan Nowak"


def test_bridge_and_hangup() -> None:
    frames = load("queue_call_pl.txt")
    (enter,) = by_event(frames, "BridgeEnter")
    assert isinstance(enter, ev.BridgeEnter)
    assert enter.bridge_uniqueid == "5b1cbd5b-8d8e-4b55-9c1d-8a7a2f1b1e33"
    (leave,) = by_event(frames, "BridgeLeave")
    assert isinstance(leave, ev.BridgeLeave)
    assert leave.bridge_uniqueid == enter.bridge_uniqueid
    (hangup,) = by_event(frames, "Hangup")
    assert isinstance(hangup, ev.Hangup)
    assert (hangup.cause, hangup.cause_text) == (16, "Normal Clearing")
    (booted,) = by_event(frames, "FullyBooted")
    assert isinstance(booted, ev.FullyBooted)
    assert booted.status == "Fully Booted"


def test_queue_member_events() -> None:
    frames = load("queue_members.txt")
    (added,) = by_event(frames, "QueueMemberAdded")
    assert isinstance(added, ev.QueueMemberAdded)
    assert (added.queue, added.interface, added.member_name) == (
        "general",
        "PJSIP/agent1",
        "Olena Kovalenko",
    )
    assert (added.paused, added.status, added.in_call) == (False, 1, False)
    (pause,) = by_event(frames, "QueueMemberPause")
    assert isinstance(pause, ev.QueueMemberPause)
    assert pause.paused
    assert pause.pause_reason == "przerwa kawowa ☕"
    assert pause.calls_taken == 3
    (status,) = by_event(frames, "QueueMemberStatus")
    assert isinstance(status, ev.QueueMemberStatus)
    assert (status.status, status.in_call, status.paused) == (2, True, False)
    (removed,) = by_event(frames, "QueueMemberRemoved")
    assert isinstance(removed, ev.QueueMemberRemoved)
    (dump,) = by_event(frames, "AgentDump")
    assert isinstance(dump, ev.AgentDump)
    assert dump.channel.caller_name == "Jan Kowalski"


def test_dial_begin_of_an_originate_has_only_a_dest() -> None:
    (dial,) = by_event(load("queue_members.txt"), "DialBegin")
    assert isinstance(dial, ev.DialBegin)
    assert dial.channel is None
    assert dial.dest is not None
    assert dial.dest.uniqueid == "1718093500.7"


def test_unknown_and_non_events_are_dropped() -> None:
    assert parse_event({"Event": "VarSet", "Uniqueid": "1.1"}) is None
    assert parse_event({"Event": "Newchannelz", "Uniqueid": "1.1"}) is None
    assert parse_event({"Response": "Success"}) is None
    assert parse_event({}) is None


def test_missing_uniqueid_drops_the_event_with_a_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="contact_center.ami.events")
    assert parse_event({"Event": "Hangup", "Channel": "PJSIP/x-1", "Cause": "16"}) is None
    assert "Hangup without Uniqueid" in caplog.text
    assert parse_event({"Event": "QueueMemberStatus", "Queue": "general"}) is None


def test_bad_numbers_read_as_zero_and_bad_timestamp_as_none() -> None:
    event = parse_event(
        {
            "Event": "QueueCallerAbandon",
            "Timestamp": "yesterday",
            "Uniqueid": "1.1",
            "Queue": "general",
            "Position": "__import__('os')",
            "OriginalPosition": "",
            "HoldTime": "9" * 5000,
        }
    )
    assert isinstance(event, ev.QueueCallerAbandon)
    assert event.timestamp is None
    assert (event.position, event.original_position) == (0, 0)


def test_hostile_text_is_kept_verbatim() -> None:
    name = "{__import__('os').system('x')} %s %(x)s \x1b[31m"
    event = parse_event({"Event": "Newstate", "Uniqueid": "1.1", "CallerIDName": name})
    assert isinstance(event, ev.Newstate)
    assert event.channel.caller_name == name


def test_field_names_match_without_regard_to_case() -> None:
    event = parse_event({"event": "newstate", "UniqueID": "7.7", "CALLERIDNAME": "Ala"})
    assert isinstance(event, ev.Newstate)
    assert (event.channel.uniqueid, event.channel.caller_name) == ("7.7", "Ala")


def test_events_are_frozen() -> None:
    event = parse_event({"Event": "Newstate", "Uniqueid": "1.1"})
    assert event is not None
    with pytest.raises(AttributeError):
        event.timestamp = 1.0  # type: ignore[misc]
    assert not hasattr(event, "__dict__")
