"""The call tracker: AMI events in, finished calls out. No I/O.

A call is the inbound caller channel (uniqueid == linkedid, in an inbound context) and
everything Asterisk reports for its linkedid: the routing decision, queueing, each agent
rung and how that ended (answered, no answer, busy, rejected), the agent who answered,
holds, transfers (blind and attended, to agents, queues or outside numbers), who hung up.
Local channel pairs (``Local/...@ctx-XXXX;1`` and ``;2``) share the linkedid: a queue member
that is a Local channel is resolved to the phone its ``;2`` leg dialled.

When the caller channel hangs up the call is finished and handed back once. A call whose end
the tracker could not see (the AMI link was down, the bridge restarted) is closed by
:meth:`CallTracker.close_missing` with what is known, marked incomplete.

The handlers are a table by event type (one dict lookup per event, no per-event allocation
beyond the steps a call records).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from contact_center.ami import events as ev
from contact_center.routing.numbers import normalize

AFTER_HOURS_OUTCOMES = {
    "message": "after_hours_message",
    "voicemail": "voicemail",
    "callback": "callback_requested",
}
"""How a call that met a closed queue ended, by the path the dialplan took."""

QUEUE_EXITS = {
    "TIMEOUT": "timeout",
    "CONTINUE": "timeout",
    "LEAVEEMPTY": "left_empty",
    "JOINEMPTY": "left_empty",
    "LEAVEUNAVAIL": "left_empty",
    "JOINUNAVAIL": "left_empty",
    "FULL": "queue_full",
    "WITHDRAW": "withdrawn",
}
"""The outcome of a caller the Queue application let go, by its QUEUESTATUS."""

REFUSALS = {17: "busy", 21: "rejected"}
"""Ring attempts an agent's phone refused, by hang-up cause (user busy, call rejected)."""

OUTCOMES = frozenset(
    {"answered", "abandoned", "unqueued", "unknown", *QUEUE_EXITS.values()}
    | set(AFTER_HOURS_OUTCOMES.values())
)

FINISHED_MEMORY = 10_000
"""How many finished linkedids are remembered, so late events don't start a phantom call."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step in a call's life, in the order it happened."""

    at: dt.datetime
    kind: str
    queue: str | None = None
    agent_interface: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FinishedCall:
    """A call as logged. Figures the tracker did not see are None (then ``complete`` is
    False if the call's start or end was not seen at all).

    ``wait_seconds`` runs from the first offer (queue join or first ring) to the answer,
    or to leaving the queue; ``ring_seconds`` is how long the phone that answered rang;
    ``talk_seconds`` is answered to end, less ``hold_seconds``; ``wrapup_seconds`` is the
    queue's wrap-up time after an answered queue call, when the tracker was told it."""

    node: str
    linkedid: str
    uniqueid: str
    caller_number: str
    caller_name: str
    dialed_number: str
    customer_id: int | None
    route_rule: str | None
    route_reason: str | None
    queue: str | None
    agent_interface: str | None
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    wait_seconds: float | None
    talk_seconds: float | None
    outcome: str
    hangup_by: str | None
    steps: tuple[Step, ...]
    ring_seconds: float | None = None
    hold_seconds: float | None = None
    wrapup_seconds: float | None = None
    transfers: int = 0
    complete: bool = True
    caller_e164: str | None = None


_NO_VARIABLES: Mapping[str, str] = MappingProxyType({})


class OpenCall(Protocol):
    """What may be read of a call in progress."""

    @property
    def linkedid(self) -> str: ...
    @property
    def uniqueid(self) -> str: ...
    @property
    def caller_number(self) -> str: ...
    @property
    def caller_name(self) -> str: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def variables(self) -> Mapping[str, str]: ...
    @property
    def steps(self) -> Sequence[Step]: ...


@dataclass(slots=True)
class _Call:
    linkedid: str
    uniqueid: str
    caller_number: str
    caller_name: str
    dialed_number: str
    started_at: float
    seen_start: bool
    variables: Mapping[str, str] = field(default_factory=lambda: _NO_VARIABLES)
    routed: bool = False
    queue: str | None = None
    queued_at: float | None = None
    in_queue: bool = False
    offered_at: float | None = None
    left_queue_at: float | None = None
    abandoned: bool = False
    caller_hung_up: bool = False
    queue_status: str = ""
    rings: dict[str, tuple[float, str]] | None = None
    """Ringing phones: dest uniqueid -> (rang at, agent interface)."""
    refused: dict[str, int] | None = None
    """Dest uniqueid -> hang-up cause, for phones that refused the call."""
    direct: str | None = None
    """The dest uniqueid of a phone the caller's own Dial rings (ring-first, transfers)."""
    locals: dict[str, tuple[str, str]] | None = None
    """Local channel pair (name without ;1/;2) -> (interface, uniqueid) of the phone its
    ;2 leg dialled."""
    agent_interface: str | None = None
    answered_at: float | None = None
    answered_in_queue: bool = False
    ring_seconds: float | None = None
    party: str | None = None
    """Uniqueid of the channel the caller talks to now (agent, transfer target)."""
    held: set[str] | None = None
    hold_started: float | None = None
    hold_total: float = 0.0
    transfers: int = 0
    transfer_keys: set[tuple[str, float | None]] | None = None
    hangup_by: str | None = None
    gapped: bool = False
    """The tracker may have missed some of this call's events (see `resync`)."""
    last_seen: float = 0.0
    steps: list[Step] = field(default_factory=list)

    def step(
        self,
        at: float,
        kind: str,
        queue: str | None = None,
        agent: str | None = None,
        /,
        **detail: Any,
    ) -> None:
        self.steps.append(Step(_utc(at), kind, queue, agent, detail))


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def sip_display_name(channel_name: str, name: str) -> str:
    """The caller's name as they sent it: PJSIP keeps the quoted-pairs of a SIP display name
    (``"Jan \\"JJ\\" K"`` becomes ``Jan \\"JJ\\" K`` in Asterisk), so they are undone here."""
    if "\\" not in name or not channel_name.startswith("PJSIP/"):
        return name
    return _QUOTED_PAIR.sub(r"\1", name)


_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def interface_of(channel_name: str) -> str:
    """`PJSIP/agent-1001-0000002a` -> `PJSIP/agent-1001` (a channel's device)."""
    device, sep, suffix = channel_name.rpartition("-")
    if sep and len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix):
        return device
    return channel_name


def _local_pair(channel_name: str) -> str | None:
    """`Local/1005@agents-00000003;2` -> `Local/1005@agents-00000003`; None if not Local."""
    if channel_name.startswith("Local/") and channel_name[-2:] in (";1", ";2"):
        return channel_name[:-2]
    return None


def _customer_id(text: str | None) -> int | None:
    if text and text.isdigit() and len(text) < 19:
        return int(text)
    return None


def _seconds(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


_Handler = Callable[["CallTracker", _Call, Any, float, bool], None]


class CallTracker:
    """Follows inbound calls on one Asterisk node.

    ``region`` reads national caller numbers for ``caller_e164`` (the settings' default
    region); ``wrapup`` is each queue's wrap-up time in seconds (queues.conf
    ``wrapuptime``), where known.
    """

    def __init__(
        self,
        node: str,
        inbound_contexts: tuple[str, ...] = ("from-trunk", "cc-inbound"),
        *,
        region: str = "PL",
        wrapup: Mapping[str, float] | None = None,
    ) -> None:
        self.node = node
        self._inbound = inbound_contexts
        self._region = region
        self._wrapup: Mapping[str, float] = wrapup or {}
        self._calls: dict[str, _Call] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def active(self) -> int:
        return len(self._calls)

    def call(self, linkedid: str) -> OpenCall | None:
        """The call ``linkedid`` in progress, read-only (for live views: agents' phones)."""
        return self._calls.get(linkedid)

    def is_open(self, linkedid: str) -> bool:
        """Whether the call ``linkedid`` is in progress (its events matter)."""
        return linkedid in self._calls

    def open_linkedids(self) -> set[str]:
        """The linkedids of the calls in progress."""
        return set(self._calls)

    def handle(self, event: ev.AmiEvent) -> FinishedCall | None:
        """Feed one event; returns the call it finished, if it finished one."""
        channel = getattr(event, "channel", None)
        if channel is None:
            return None
        at = event.timestamp if event.timestamp is not None else time.time()
        linkedid = channel.linkedid
        call = self._calls.get(linkedid)
        if call is None:
            if linkedid in self._finished or isinstance(event, ev.Hangup):
                return None  # late or repeated events of a call already finished
            call = self._start(channel, at, isinstance(event, ev.Newchannel))
            if call is None:
                return None
        if at > call.last_seen:
            call.last_seen = at
        is_caller = channel.uniqueid == call.uniqueid
        if is_caller:
            variables = channel.variables
            if variables:
                call.variables = variables
                if not call.routed and variables.get("CC_ROUTE_REASON"):
                    call.routed = True
                    queue = variables.get("CC_QUEUE") or None
                    call.step(at, "routed", queue, None, **_decision(call))
                status = variables.get("QUEUESTATUS")
                if status and status != call.queue_status:
                    call.queue_status = status
                    if status in QUEUE_EXITS:
                        call.step(at, "queue_exit", call.queue, None, status=status)
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, call, event, at, is_caller)
        if is_caller and type(event) is ev.Hangup:
            return self._end(call, event, at)
        return None

    def close_missing(self, present: Collection[str], at: float) -> list[FinishedCall]:
        """Close every open call whose linkedid is not in ``present`` (the linkedids of the
        channels Asterisk still has): it ended while the tracker could not see it. Each is
        returned once, marked incomplete, with the figures not seen as None."""
        gone = [call for linkedid, call in self._calls.items() if linkedid not in present]
        closed = []
        for call in gone:
            call.step(
                at,
                "closed_unseen",
                reason="the call was gone from Asterisk when the bridge looked again",
                last_seen=_utc(call.last_seen).isoformat(),
            )
            self._forget(call)
            closed.append(self._finish(call, at, seen_end=False))
        return closed

    def resync(self, channels: Sequence[Mapping[str, str]], at: float) -> list[FinishedCall]:
        """After the tracker could not see Asterisk for a while (AMI link down, bridge
        restarted): ``channels`` is Asterisk's ``CoreShowChannels`` answer, now.

        Calls gone from Asterisk are closed (:meth:`close_missing`). Every call still open
        may have missed events, so it will be logged as incomplete; a caller channel that is
        now bridged to an agent was answered meanwhile, and a caller channel the tracker does
        not know started meanwhile (its start is taken from the channel's age)."""
        closed = self.close_missing({c.get("Linkedid", "") for c in channels}, at)
        by_bridge: dict[str, list[Mapping[str, str]]] = {}
        for entry in channels:
            if entry.get("BridgeId"):
                by_bridge.setdefault(entry["BridgeId"], []).append(entry)
        for entry in channels:
            uniqueid, linkedid = entry.get("Uniqueid", ""), entry.get("Linkedid", "")
            call = self._calls.get(linkedid)
            if call is None and uniqueid == linkedid and linkedid not in self._finished:
                started = at - _duration(entry.get("Duration", ""))
                call = self._start(_snapshot(entry), started, False)
            if call is None or uniqueid != call.uniqueid:
                continue
            if not call.gapped:
                call.gapped = True
                call.step(at, "gap", reason="events may be missing: the bridge looked again")
            peers = [
                peer
                for peer in by_bridge.get(entry.get("BridgeId", ""), ())
                if peer.get("Uniqueid") != uniqueid
            ]
            if peers and call.answered_at is None:
                call.answered_at = at
                call.answered_in_queue = call.queue is not None
                call.agent_interface = interface_of(peers[0].get("Channel", ""))
                call.step(at, "connected", call.queue, call.agent_interface, seen="on resync")
        return closed

    # --- life and death ------------------------------------------------------------------------

    def _start(self, channel: ev.ChannelSnapshot, at: float, fresh: bool) -> _Call | None:
        if channel.uniqueid != channel.linkedid or channel.context not in self._inbound:
            return None
        call = _Call(
            linkedid=channel.linkedid,
            uniqueid=channel.uniqueid,
            caller_number=channel.caller_num,
            caller_name=sip_display_name(channel.name, channel.caller_name),
            dialed_number=channel.exten if channel.context == self._inbound[0] else "",
            started_at=at,
            seen_start=fresh,
            last_seen=at,
        )
        call.step(at, "arrived", caller=channel.caller_num, dialed=call.dialed_number)
        self._calls[call.linkedid] = call
        return call

    def _forget(self, call: _Call) -> None:
        del self._calls[call.linkedid]
        self._finished[call.linkedid] = None
        if len(self._finished) > FINISHED_MEMORY:
            self._finished.popitem(last=False)

    def _end(self, call: _Call, event: ev.Hangup, at: float) -> FinishedCall:
        call.step(at, "hangup", cause=event.cause, cause_text=event.cause_text)
        self._forget(call)
        return self._finish(call, at, seen_end=True)

    def _finish(self, call: _Call, ended: float, *, seen_end: bool) -> FinishedCall:
        after_hours = call.variables.get("CC_AFTER_HOURS")
        exit_outcome = QUEUE_EXITS.get(call.queue_status)
        if call.answered_at is not None:
            outcome = "answered"
        elif after_hours in AFTER_HOURS_OUTCOMES and call.queued_at is None:
            outcome = AFTER_HOURS_OUTCOMES[after_hours]
        elif exit_outcome is not None:
            outcome = exit_outcome
        elif not seen_end:
            outcome = "unknown"
        elif call.abandoned:
            outcome = "abandoned"
        elif call.left_queue_at is not None:
            outcome = "timeout"
        elif call.offered_at is not None:
            outcome = "abandoned"
        else:
            outcome = "unqueued"

        if call.hold_started is not None and seen_end:
            call.hold_total += ended - call.hold_started
        wait = talk = hold = None
        if call.offered_at is not None:
            wait_end = call.answered_at or call.left_queue_at or (ended if seen_end else None)
            wait = wait_end - call.offered_at if wait_end is not None else None
        if seen_end:
            hold = call.hold_total if call.answered_at is not None else None
            if call.answered_at is not None:
                talk = ended - call.answered_at - call.hold_total
        hangup_by = call.hangup_by
        if seen_end and call.answered_at is None and hangup_by is None:
            hangup_by = "caller" if outcome in {"abandoned", "unqueued"} else None
        wrapup = None
        if seen_end and call.answered_in_queue and call.queue is not None:
            wrapup = self._wrapup.get(call.queue)
        steps = call.steps
        if any(a.at > b.at for a, b in itertools.pairwise(steps)):
            steps.sort(key=lambda step: step.at)  # events that came out of order
        return FinishedCall(
            node=self.node,
            linkedid=call.linkedid,
            uniqueid=call.uniqueid,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            dialed_number=call.dialed_number,
            customer_id=_customer_id(call.variables.get("CC_CUSTOMER_ID")),
            route_rule=call.variables.get("CC_ROUTE_RULE") or None,
            route_reason=call.variables.get("CC_ROUTE_REASON") or None,
            queue=call.queue or call.variables.get("CC_QUEUE") or None,
            agent_interface=call.agent_interface,
            started_at=_utc(call.started_at),
            answered_at=_utc(call.answered_at) if call.answered_at is not None else None,
            ended_at=_utc(ended),
            wait_seconds=_seconds(wait),
            talk_seconds=_seconds(talk),
            outcome=outcome,
            hangup_by=hangup_by,
            steps=tuple(steps),
            ring_seconds=_seconds(call.ring_seconds),
            hold_seconds=_seconds(hold),
            wrapup_seconds=wrapup,
            transfers=call.transfers,
            complete=seen_end and call.seen_start and not call.gapped,
            caller_e164=normalize(call.caller_number, self._region),
        )


def _duration(text: str) -> float:
    """``CoreShowChannel``'s ``Duration`` (``HH:MM:SS``) in seconds; 0 if unreadable."""
    try:
        hours, minutes, seconds = (int(part) for part in text.split(":"))
    except ValueError:
        return 0.0
    return float(hours * 3600 + minutes * 60 + seconds)


def _snapshot(entry: Mapping[str, str]) -> ev.ChannelSnapshot:
    """A channel from a ``CoreShowChannel`` entry."""
    return ev.ChannelSnapshot(
        name=entry.get("Channel", ""),
        uniqueid=entry.get("Uniqueid", ""),
        linkedid=entry.get("Linkedid", ""),
        state=entry.get("ChannelStateDesc", ""),
        caller_num=entry.get("CallerIDNum", ""),
        caller_name=entry.get("CallerIDName", ""),
        connected_num=entry.get("ConnectedLineNum", ""),
        connected_name=entry.get("ConnectedLineName", ""),
        context=entry.get("Context", ""),
        exten=entry.get("Exten", ""),
    )


def _decision(call: _Call) -> dict[str, Any]:
    """The routing decision as the channel variables carry it (see agi_route.py)."""
    names = {
        "CC_ROUTE_RULE": "rule",
        "CC_ROUTE_REASON": "reason",
        "CC_CANDIDATES": "other_candidates",
        "CC_PREFERRED_AGENT": "preferred_agent",
        "CC_AFTER_HOURS": "after_hours",
    }
    variables = call.variables
    return {key: variables[name] for name, key in names.items() if variables.get(name)}


# --- handlers, one per event type -----------------------------------------------------------


def _behind_local(call: _Call, channel: ev.ChannelSnapshot | None) -> tuple[str, str] | None:
    """(interface, uniqueid) of the phone a Local channel's pair dialled, if known."""
    if call.locals is not None and channel is not None:
        pair = _local_pair(channel.name)
        if pair is not None:
            return call.locals.get(pair)
    return None


def _agent(call: _Call, interface: str, dest: ev.ChannelSnapshot | None) -> str:
    """The phone behind a queue member: itself, or the phone its Local pair dialled."""
    phone = _behind_local(call, dest)
    return phone[0] if phone is not None else interface


def _on_newchannel(
    tracker: CallTracker, call: _Call, event: ev.Newchannel, at: float, is_caller: bool
) -> None:
    if is_caller and not call.seen_start:
        # the call was first seen mid-way, and its start arrives late
        call.seen_start = True
        call.started_at = min(call.started_at, at)
        call.dialed_number = event.channel.exten or call.dialed_number


def _on_queue_join(
    tracker: CallTracker, call: _Call, event: ev.QueueCallerJoin, at: float, is_caller: bool
) -> None:
    if not is_caller:
        return
    if call.queue is None:
        call.queue = event.queue
    if call.queued_at is None or at < call.queued_at:
        call.queued_at = at
    if call.offered_at is None or at < call.offered_at:
        call.offered_at = at
    call.in_queue = True
    call.step(at, "queued", event.queue, None, position=event.position)


def _on_agent_called(
    tracker: CallTracker, call: _Call, event: ev.AgentCalled, at: float, is_caller: bool
) -> None:
    dest = event.dest
    if dest is not None:
        if call.rings is None:
            call.rings = {}
        call.rings[dest.uniqueid] = (at, event.interface)
    call.step(at, "ringing", event.queue, event.interface)


def _on_ring_no_answer(
    tracker: CallTracker, call: _Call, event: ev.AgentRingNoAnswer, at: float, is_caller: bool
) -> None:
    cause = None
    if event.dest is not None and call.refused is not None:
        cause = call.refused.get(event.dest.uniqueid)
    kind = REFUSALS.get(cause, "no_answer") if cause is not None else "no_answer"
    call.step(at, kind, event.queue, event.interface, ring_ms=event.ring_time)


def _on_agent_connect(
    tracker: CallTracker, call: _Call, event: ev.AgentConnect, at: float, is_caller: bool
) -> None:
    dest = event.dest
    agent = _agent(call, event.interface, dest)
    if dest is not None:
        phone = _behind_local(call, dest)
        call.party = phone[1] if phone is not None else dest.uniqueid
    if call.answered_at is None or at < call.answered_at:
        call.answered_at = at
        call.agent_interface = agent
        call.answered_in_queue = True
        rang = call.rings.get(dest.uniqueid) if call.rings and dest is not None else None
        call.ring_seconds = at - rang[0] if rang is not None else float(event.ring_time)
    call.step(at, "connected", event.queue, agent, hold_time=event.hold_time)


def _on_agent_complete(
    tracker: CallTracker, call: _Call, event: ev.AgentComplete, at: float, is_caller: bool
) -> None:
    if call.hangup_by is None and event.reason in ("caller", "agent"):
        call.hangup_by = event.reason
    call.step(
        at,
        "completed",
        event.queue,
        _agent(call, event.interface, event.dest),
        reason=event.reason,
        talk_time=event.talk_time,
    )


def _on_abandon(
    tracker: CallTracker, call: _Call, event: ev.QueueCallerAbandon, at: float, is_caller: bool
) -> None:
    # Asterisk reports a caller the queue let go (timeout, empty queue) as abandoned too:
    # then QUEUESTATUS follows and decides the outcome. A caller who hung up asked first.
    call.abandoned = True
    if not call.caller_hung_up:
        return
    call.hangup_by = call.hangup_by or "caller"
    call.step(
        at,
        "abandoned",
        event.queue,
        None,
        position=event.position,
        original_position=event.original_position,
        hold_time=event.hold_time,
    )


def _on_queue_leave(
    tracker: CallTracker, call: _Call, event: ev.QueueCallerLeave, at: float, is_caller: bool
) -> None:
    if not is_caller:
        return
    call.in_queue = False
    call.left_queue_at = at
    call.step(at, "left_queue", event.queue, None, position=event.position)


def _on_dial_begin(
    tracker: CallTracker, call: _Call, event: ev.DialBegin, at: float, is_caller: bool
) -> None:
    dest = event.dest
    if dest is None:
        return
    if not is_caller:
        pair = _local_pair(event.channel.name) if event.channel is not None else None
        if pair is not None:  # a Local member's ;2 leg dials the phone
            if call.locals is None:
                call.locals = {}
            call.locals[pair] = (interface_of(dest.name), dest.uniqueid)
        return
    if call.in_queue or (call.rings is not None and dest.uniqueid in call.rings):
        return  # the queue's own dial: AgentCalled tells it
    # the caller's own Dial: the preferred agent first, or where a transfer sent the call
    agent = interface_of(dest.name)
    call.direct = dest.uniqueid
    if call.rings is None:
        call.rings = {}
    call.rings[dest.uniqueid] = (at, agent)
    if call.offered_at is None:
        call.offered_at = at
    call.step(at, "ringing", None, agent, direct=True)


def _on_dial_end(
    tracker: CallTracker, call: _Call, event: ev.DialEnd, at: float, is_caller: bool
) -> None:
    dest = event.dest
    if not is_caller or dest is None or dest.uniqueid != call.direct:
        return
    call.direct = None
    agent = interface_of(dest.name)
    if event.dial_status == "ANSWER":
        call.party = dest.uniqueid
        if call.answered_at is None:
            call.answered_at = at
            call.agent_interface = agent
            rang = call.rings.get(dest.uniqueid) if call.rings else None
            call.ring_seconds = at - rang[0] if rang is not None else None
        call.step(at, "connected", None, agent, direct=True)
        return
    cause = call.refused.get(dest.uniqueid) if call.refused else None
    kind = REFUSALS.get(cause, "no_answer") if cause is not None else "no_answer"
    if event.dial_status == "BUSY":
        kind = "busy"
    call.step(at, kind, None, agent, direct=True, status=event.dial_status)


def _on_hangup_request(
    tracker: CallTracker, call: _Call, event: ev.HangupRequest, at: float, is_caller: bool
) -> None:
    uniqueid = event.channel.uniqueid
    if is_caller:
        call.caller_hung_up = True
        if call.hangup_by is None and call.answered_at is not None:
            call.hangup_by = "caller"
    elif uniqueid == call.party:
        if call.hangup_by is None:
            call.hangup_by = "agent"
    elif event.cause in REFUSALS:  # a phone refused the call (may come before AgentCalled)
        if call.refused is None:
            call.refused = {}
        call.refused[uniqueid] = event.cause


def _on_hangup(
    tracker: CallTracker, call: _Call, event: ev.Hangup, at: float, is_caller: bool
) -> None:
    uniqueid = event.channel.uniqueid
    if is_caller:
        return  # handled by CallTracker.handle: the call ends
    if call.held is not None and uniqueid in call.held:
        _unhold(call, uniqueid, at)
    if event.cause in REFUSALS and uniqueid != call.party:
        if call.refused is None:
            call.refused = {}
        call.refused.setdefault(uniqueid, event.cause)


def _on_hold(tracker: CallTracker, call: _Call, event: ev.Hold, at: float, is_caller: bool) -> None:
    if call.held is None:
        call.held = set()
    uniqueid = event.channel.uniqueid
    if uniqueid in call.held:
        return  # a repeated Hold
    if not call.held:
        call.hold_started = at
    call.held.add(uniqueid)
    who = "caller" if is_caller else interface_of(event.channel.name)
    call.step(at, "hold", None, None if is_caller else who, by=who)


def _unhold(call: _Call, uniqueid: str, at: float) -> None:
    assert call.held is not None
    call.held.discard(uniqueid)
    if not call.held and call.hold_started is not None:
        call.hold_total += max(0.0, at - call.hold_started)
        call.hold_started = None
        call.step(at, "unhold")


def _on_unhold(
    tracker: CallTracker, call: _Call, event: ev.Unhold, at: float, is_caller: bool
) -> None:
    if call.held is not None and event.channel.uniqueid in call.held:
        _unhold(call, event.channel.uniqueid, at)


def _new_transfer(call: _Call, transferer: ev.ChannelSnapshot, at: float) -> bool:
    """Count a transfer once, however many times its event arrives."""
    key = (transferer.uniqueid, at)
    if call.transfer_keys is None:
        call.transfer_keys = set()
    elif key in call.transfer_keys:
        return False
    call.transfer_keys.add(key)
    call.transfers += 1
    return True


def _on_blind_transfer(
    tracker: CallTracker, call: _Call, event: ev.BlindTransfer, at: float, is_caller: bool
) -> None:
    if event.result != "Success" or not _new_transfer(call, event.channel, at):
        return
    if event.channel.uniqueid == call.party:
        call.party = None
    call.step(
        at,
        "transferred",
        None,
        interface_of(event.channel.name),
        kind="blind",
        to=event.exten,
        context=event.context,
    )


def _on_attended_transfer(
    tracker: CallTracker, call: _Call, event: ev.AttendedTransfer, at: float, is_caller: bool
) -> None:
    if event.result != "Success" or not _new_transfer(call, event.channel, at):
        return
    target = event.target
    detail: dict[str, Any] = {"kind": "attended", "dest_type": event.dest_type}
    if target is not None:
        phone = _behind_local(call, target)
        call.party = phone[1] if phone is not None else target.uniqueid
        detail["to"] = phone[0] if phone is not None else interface_of(target.name)
    elif event.dest_app:
        detail["to"] = event.dest_app
    call.step(at, "transferred", None, interface_of(event.channel.name), **detail)


_HANDLERS: dict[type[ev.AmiEvent], _Handler] = {
    ev.Newchannel: _on_newchannel,
    ev.QueueCallerJoin: _on_queue_join,
    ev.AgentCalled: _on_agent_called,
    ev.AgentRingNoAnswer: _on_ring_no_answer,
    ev.AgentConnect: _on_agent_connect,
    ev.AgentComplete: _on_agent_complete,
    ev.QueueCallerAbandon: _on_abandon,
    ev.QueueCallerLeave: _on_queue_leave,
    ev.DialBegin: _on_dial_begin,
    ev.DialEnd: _on_dial_end,
    ev.HangupRequest: _on_hangup_request,
    ev.Hangup: _on_hangup,
    ev.Hold: _on_hold,
    ev.Unhold: _on_unhold,
    ev.BlindTransfer: _on_blind_transfer,
    ev.AttendedTransfer: _on_attended_transfer,
}
"""Which events the tracker follows, and who handles each."""
