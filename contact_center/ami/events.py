"""Typed AMI events, made once at the edge by :func:`parse_event`. Pure: no I/O, no panoramisk.

Every field value is text from strangers (a caller name is whatever the caller's phone says):
it is stored, never evaluated or formatted into anything. A number that does not parse reads
as 0; an event without the id it is about (``Uniqueid``, or ``Queue``/``Interface`` for a
queue member) is dropped with a debug line; an event we do not know is dropped silently.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

_log = logging.getLogger(__name__)

_NO_VARIABLES: Mapping[str, str] = MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSnapshot:
    """A channel as an event saw it."""

    name: str
    uniqueid: str
    linkedid: str = ""
    state: str = ""
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    context: str = ""
    exten: str = ""
    variables: Mapping[str, str] = dataclasses.field(default_factory=lambda: _NO_VARIABLES)
    """Channel variables Asterisk reports (``channelvars`` in manager.conf); read-only."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AmiEvent:
    """Base of every event; ``timestamp`` is Asterisk's ``Timestamp`` header (epoch seconds)."""

    timestamp: float | None


# --- link state, emitted by the client itself ------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AmiConnected(AmiEvent):
    """The client is logged in (again): resynchronize state from Asterisk now."""

    version: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AmiDisconnected(AmiEvent):
    """The link is gone: events may be missing until the next :class:`AmiConnected`."""

    reason: str = ""


# --- Asterisk events -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FullyBooted(AmiEvent):
    status: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Newchannel(AmiEvent):
    channel: ChannelSnapshot


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Newstate(AmiEvent):
    channel: ChannelSnapshot


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(AmiEvent):
    channel: ChannelSnapshot
    cause: int
    cause_text: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HangupRequest(AmiEvent):
    """``channel`` asked to hang up itself (its far end hung up: a SIP BYE or CANCEL)."""

    channel: ChannelSnapshot
    cause: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Hold(AmiEvent):
    """``channel`` put its peer on hold (a phone's hold key, or a transfer in progress)."""

    channel: ChannelSnapshot


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Unhold(AmiEvent):
    channel: ChannelSnapshot


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BlindTransfer(AmiEvent):
    """``channel`` (the transferer) sent ``transferee`` to ``exten`` in ``context``."""

    channel: ChannelSnapshot
    transferee: ChannelSnapshot | None
    result: str
    context: str
    exten: str
    is_external: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AttendedTransfer(AmiEvent):
    """``channel`` (the transferer in the first bridge) joined its two calls: the
    transferee now talks to ``target`` (``dest_type`` Bridge or Link), or to an application
    (``dest_app``, ``dest_type`` App); ``second`` is the transferer's consultation channel."""

    channel: ChannelSnapshot
    second: ChannelSnapshot | None
    transferee: ChannelSnapshot | None
    target: ChannelSnapshot | None
    result: str
    dest_type: str
    dest_app: str
    is_external: bool


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DialBegin(AmiEvent):
    """``channel`` is None when nothing dialled (an Originate): then ``dest`` is set."""

    channel: ChannelSnapshot | None
    dest: ChannelSnapshot | None
    dial_string: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DialEnd(AmiEvent):
    channel: ChannelSnapshot | None
    dest: ChannelSnapshot | None
    dial_status: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEnter(AmiEvent):
    channel: ChannelSnapshot
    bridge_uniqueid: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeave(AmiEvent):
    channel: ChannelSnapshot
    bridge_uniqueid: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerJoin(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int
    count: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerLeave(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int
    count: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerAbandon(AmiEvent):
    channel: ChannelSnapshot
    queue: str
    position: int
    original_position: int
    hold_time: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _AgentEvent(AmiEvent):
    """The caller is ``channel``; the agent's channel is ``dest``."""

    channel: ChannelSnapshot
    dest: ChannelSnapshot | None
    queue: str
    interface: str
    member_name: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentCalled(_AgentEvent):
    pass


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentRingNoAnswer(_AgentEvent):
    ring_time: int
    """Milliseconds."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentConnect(_AgentEvent):
    hold_time: int
    ring_time: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentComplete(_AgentEvent):
    hold_time: int
    talk_time: int
    reason: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AgentDump(_AgentEvent):
    pass


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _QueueMemberEvent(AmiEvent):
    queue: str
    interface: str
    member_name: str
    state_interface: str
    paused: bool
    pause_reason: str
    status: int
    """Device state: 1 not in use, 2 in use, 3 busy, 5 unavailable, 6 ringing, ..."""
    in_call: bool
    calls_taken: int
    wrapup_time: int = 0
    """Seconds the member rests after a queue call (the queue's or member's wrapuptime)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberAdded(_QueueMemberEvent):
    pass


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberRemoved(_QueueMemberEvent):
    pass


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberPause(_QueueMemberEvent):
    pass


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberStatus(_QueueMemberEvent):
    pass


# --- parsing ---------------------------------------------------------------------------------


class _Fields:
    """Case-insensitive read access to one frame.

    The keys are lowered once, in the same pass that picks out the channel-variable keys
    (``ChanVariable``, ``DestChanVariable(NAME)``...), so nothing walks the frame twice.
    """

    __slots__ = ("_values", "event", "variable_keys")

    def __init__(self, fields: Mapping[str, str], event: str) -> None:
        values: dict[str, str] = {}
        variable_keys: list[tuple[str, str]] = []
        for key, value in fields.items():
            lowered = key.lower()
            values[lowered] = value
            if "chanvariable" in lowered:
                variable_keys.append((key, lowered))
        self._values = values
        self.variable_keys = variable_keys
        self.event = event

    def text(self, name: str) -> str:
        return self._values.get(name.lower(), "")

    def lowered(self, name: str) -> str:
        """:meth:`text` for a name already in lower case."""
        return self._values.get(name, "")

    def integer(self, name: str) -> int:
        value = self._values.get(name.lower(), "")
        try:
            return int(value)
        except ValueError:
            if value:
                _log.debug("AMI %s: %s=%r is not an integer, read as 0", self.event, name, value)
            return 0

    def boolean(self, name: str) -> bool:
        return self._values.get(name.lower(), "").strip().lower() in {"1", "true", "yes", "on"}

    def timestamp(self) -> float | None:
        try:
            return float(self._values.get("timestamp", ""))
        except ValueError:
            return None


_C_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_C_CONTROLS = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape_c(value: str) -> str:
    """A channel variable's value (or a caller's name) as it was set: Asterisk 22 sends
    ``ChanVariable`` values and the ``CallerIDName``/``ConnectedLineName`` of channels
    C-escaped (``ast_escape_c``: ``\\"`` for ``"``, ``\\\\`` for ``\\``, ``\\n`` for a newline)."""
    if "\\" not in value:
        return value
    return _C_ESCAPE.sub(lambda m: _C_CONTROLS.get(m.group(1), m.group(1)), value)


def _variables(fields: Mapping[str, str], f: _Fields, prefix: str) -> Mapping[str, str]:
    if not f.variable_keys:
        return _NO_VARIABLES
    opening = f"{prefix}chanvariable("
    plain = f"{prefix}chanvariable"
    found: dict[str, str] = {}
    for key, lowered in f.variable_keys:
        if lowered.startswith(opening) and lowered.endswith(")"):
            name = key[len(opening) : -1]
            if name:
                found[name] = _unescape_c(fields[key])
        elif lowered == plain:
            for line in fields[key].split("\n"):
                name, sep, var_value = line.partition("=")
                if sep and name:
                    found[name] = _unescape_c(var_value)
    return MappingProxyType(found) if found else _NO_VARIABLES


_CHANNEL_FIELDS = (
    "Uniqueid",
    "Channel",
    "Linkedid",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Context",
    "Exten",
)


@functools.cache
def _channel_keys(prefix: str) -> tuple[str, ...]:
    """The lowered keys of a channel's fields under ``prefix`` ('', 'Dest', 'Transferee'...)."""
    return tuple(f"{prefix}{name}".lower() for name in _CHANNEL_FIELDS)


def _channel(fields: Mapping[str, str], f: _Fields, prefix: str = "") -> ChannelSnapshot | None:
    (
        uniqueid_key,
        name_key,
        linkedid_key,
        state_key,
        num_key,
        caller_key,
        connected_num_key,
        connected_key,
        context_key,
        exten_key,
    ) = _channel_keys(prefix)
    text = f.lowered
    uniqueid = text(uniqueid_key)
    if not uniqueid:
        return None
    return ChannelSnapshot(
        name=text(name_key),
        uniqueid=uniqueid,
        linkedid=text(linkedid_key),
        state=text(state_key),
        caller_num=text(num_key),
        caller_name=_unescape_c(text(caller_key)),
        connected_num=text(connected_num_key),
        connected_name=_unescape_c(text(connected_key)),
        context=text(context_key),
        exten=text(exten_key),
        variables=_variables(fields, f, prefix.lower()),
    )


class _Missing(Exception):
    """The event lacks the id it is about."""


def _required(channel: ChannelSnapshot | None) -> ChannelSnapshot:
    if channel is None:
        raise _Missing("Uniqueid")
    return channel


def _required_text(f: _Fields, *names: str) -> str:
    for name in names:
        value = f.text(name)
        if value:
            return value
    raise _Missing(names[0])


_Parser = Callable[[Mapping[str, str], _Fields, float | None], AmiEvent]


def _fully_booted(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return FullyBooted(timestamp=ts, status=f.text("Status"))


def _channel_only(cls: type[Newchannel | Newstate | Hold | Unhold]) -> _Parser:
    def parse(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
        return cls(timestamp=ts, channel=_required(_channel(raw, f)))

    return parse


def _hangup(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return Hangup(
        timestamp=ts,
        channel=_required(_channel(raw, f)),
        cause=f.integer("Cause"),
        cause_text=f.text("Cause-txt"),
    )


def _hangup_request(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return HangupRequest(
        timestamp=ts, channel=_required(_channel(raw, f)), cause=f.integer("Cause")
    )


def _blind_transfer(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return BlindTransfer(
        timestamp=ts,
        channel=_required(_channel(raw, f, "Transferer")),
        transferee=_channel(raw, f, "Transferee"),
        result=f.text("Result"),
        context=f.text("Context"),
        exten=f.text("Extension"),
        is_external=f.boolean("IsExternal"),
    )


def _attended_transfer(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return AttendedTransfer(
        timestamp=ts,
        channel=_required(_channel(raw, f, "OrigTransferer")),
        second=_channel(raw, f, "SecondTransferer"),
        transferee=_channel(raw, f, "Transferee"),
        target=_channel(raw, f, "TransferTarget"),
        result=f.text("Result"),
        dest_type=f.text("DestType"),
        dest_app=f.text("DestApp"),
        is_external=f.boolean("IsExternal"),
    )


def _dial_begin(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    channel, dest = _channel(raw, f), _channel(raw, f, "Dest")
    if channel is None and dest is None:
        raise _Missing("Uniqueid")
    return DialBegin(timestamp=ts, channel=channel, dest=dest, dial_string=f.text("DialString"))


def _dial_end(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    channel, dest = _channel(raw, f), _channel(raw, f, "Dest")
    if channel is None and dest is None:
        raise _Missing("Uniqueid")
    return DialEnd(timestamp=ts, channel=channel, dest=dest, dial_status=f.text("DialStatus"))


def _bridge(cls: type[BridgeEnter] | type[BridgeLeave]) -> _Parser:
    def parse(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
        return cls(
            timestamp=ts,
            channel=_required(_channel(raw, f)),
            bridge_uniqueid=f.text("BridgeUniqueid"),
        )

    return parse


def _caller_queue(cls: type[QueueCallerJoin] | type[QueueCallerLeave]) -> _Parser:
    def parse(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
        return cls(
            timestamp=ts,
            channel=_required(_channel(raw, f)),
            queue=_required_text(f, "Queue"),
            position=f.integer("Position"),
            count=f.integer("Count"),
        )

    return parse


def _caller_abandon(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return QueueCallerAbandon(
        timestamp=ts,
        channel=_required(_channel(raw, f)),
        queue=_required_text(f, "Queue"),
        position=f.integer("Position"),
        original_position=f.integer("OriginalPosition"),
        hold_time=f.integer("HoldTime"),
    )


class _AgentParts(NamedTuple):
    channel: ChannelSnapshot
    dest: ChannelSnapshot | None
    queue: str
    interface: str
    member_name: str


def _agent_parts(raw: Mapping[str, str], f: _Fields) -> _AgentParts:
    return _AgentParts(
        channel=_required(_channel(raw, f)),
        dest=_channel(raw, f, "Dest"),
        queue=_required_text(f, "Queue"),
        interface=f.text("Interface"),
        member_name=f.text("MemberName"),
    )


def _agent_called(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return AgentCalled(timestamp=ts, **_agent_parts(raw, f)._asdict())


def _agent_ring_no_answer(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return AgentRingNoAnswer(
        timestamp=ts, **_agent_parts(raw, f)._asdict(), ring_time=f.integer("RingTime")
    )


def _agent_connect(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return AgentConnect(
        timestamp=ts,
        **_agent_parts(raw, f)._asdict(),
        hold_time=f.integer("HoldTime"),
        ring_time=f.integer("RingTime"),
    )


def _agent_complete(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return AgentComplete(
        timestamp=ts,
        **_agent_parts(raw, f)._asdict(),
        hold_time=f.integer("HoldTime"),
        talk_time=f.integer("TalkTime"),
        reason=f.text("Reason"),
    )


def _agent_dump(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
    return AgentDump(timestamp=ts, **_agent_parts(raw, f)._asdict())


def _member(cls: type[_QueueMemberEvent]) -> _Parser:
    def parse(raw: Mapping[str, str], f: _Fields, ts: float | None) -> AmiEvent:
        return cls(
            timestamp=ts,
            queue=_required_text(f, "Queue"),
            interface=_required_text(f, "Interface", "Location"),
            member_name=f.text("MemberName"),
            state_interface=f.text("StateInterface"),
            paused=f.boolean("Paused"),
            pause_reason=f.text("PausedReason") or f.text("Reason"),
            status=f.integer("Status"),
            in_call=f.boolean("InCall"),
            calls_taken=f.integer("CallsTaken"),
            wrapup_time=f.integer("Wrapuptime"),
        )

    return parse


_PARSERS: dict[str, _Parser] = {
    "fullybooted": _fully_booted,
    "newchannel": _channel_only(Newchannel),
    "newstate": _channel_only(Newstate),
    "hangup": _hangup,
    "hanguprequest": _hangup_request,
    "hold": _channel_only(Hold),
    "unhold": _channel_only(Unhold),
    "blindtransfer": _blind_transfer,
    "attendedtransfer": _attended_transfer,
    "dialbegin": _dial_begin,
    "dialend": _dial_end,
    "bridgeenter": _bridge(BridgeEnter),
    "bridgeleave": _bridge(BridgeLeave),
    "queuecallerjoin": _caller_queue(QueueCallerJoin),
    "queuecallerleave": _caller_queue(QueueCallerLeave),
    "queuecallerabandon": _caller_abandon,
    "agentcalled": _agent_called,
    "agentringnoanswer": _agent_ring_no_answer,
    "agentconnect": _agent_connect,
    "agentcomplete": _agent_complete,
    "agentdump": _agent_dump,
    "queuememberadded": _member(QueueMemberAdded),
    "queuememberremoved": _member(QueueMemberRemoved),
    "queuememberpause": _member(QueueMemberPause),
    "queuememberstatus": _member(QueueMemberStatus),
}

EVENT_NAMES = frozenset(_PARSERS)
"""The (lower-case) names of the Asterisk events :func:`parse_event` knows."""


def parse_event(fields: Mapping[str, str]) -> AmiEvent | None:
    """The typed event for one AMI frame, or None for an unknown or unusable one."""
    name = fields.get("Event")
    if name is None:
        name = next((v for k, v in fields.items() if k.lower() == "event"), "")
    parser = _PARSERS.get(name.lower())
    if parser is None:
        return None  # most of what Asterisk says: no frame walk for it
    f = _Fields(fields, name)
    try:
        return parser(fields, f, f.timestamp())
    except _Missing as missing:
        _log.debug("AMI %s without %s: dropped", name, missing)
        return None
