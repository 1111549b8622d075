"""The call tracker: AMI events in, finished calls out. No I/O.

A call is the inbound caller channel (uniqueid == linkedid, in an inbound context) and
everything Asterisk reports for its linkedid: queueing, agents rung, the agent who answered,
who hung up. When the caller channel hangs up the call is finished and handed back once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from contact_center.ami import events as ev

AFTER_HOURS_OUTCOMES = {
    "message": "after_hours_message",
    "voicemail": "voicemail",
    "callback": "callback_requested",
}
"""How a call that met a closed queue ended, by the path the dialplan took."""

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


@dataclass(slots=True)
class _Call:
    linkedid: str
    uniqueid: str
    caller_number: str
    caller_name: str
    dialed_number: str
    started_at: float
    variables: dict[str, str] = field(default_factory=dict)
    queue: str | None = None
    queued_at: float | None = None
    offered_at: float | None = None
    left_queue_at: float | None = None
    direct_agent: str | None = None
    routed: bool = False
    agent_interface: str | None = None
    answered_at: float | None = None
    abandoned: bool = False
    hangup_by: str | None = None
    steps: list[Step] = field(default_factory=list)

    def step(self, at: float, kind: str, **values: Any) -> None:
        queue = values.pop("queue", None)
        agent = values.pop("agent_interface", None)
        self.steps.append(Step(_utc(at), kind, queue, agent, values))


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def interface_of(channel_name: str) -> str:
    """`PJSIP/agent-1001-0000002a` -> `PJSIP/agent-1001` (a channel's device)."""
    device, sep, suffix = channel_name.rpartition("-")
    if sep and len(suffix) == 8 and all(c in "0123456789abcdef" for c in suffix):
        return device
    return channel_name


def _customer_id(text: str | None) -> int | None:
    if text and text.isdigit() and len(text) < 19:
        return int(text)
    return None


class CallTracker:
    """Follows inbound calls on one Asterisk node."""

    def __init__(
        self, node: str, inbound_contexts: tuple[str, ...] = ("from-trunk", "cc-inbound")
    ) -> None:
        self.node = node
        self._inbound = inbound_contexts
        self._calls: dict[str, _Call] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()

    @property
    def active(self) -> int:
        return len(self._calls)

    def handle(self, event: ev.AmiEvent) -> FinishedCall | None:
        """Feed one event; returns the call it finished, if it finished one."""
        channel = getattr(event, "channel", None)
        if channel is None:
            return None
        at = event.timestamp if event.timestamp is not None else time.time()
        call = self._calls.get(channel.linkedid)
        if call is None:
            if isinstance(event, ev.Hangup) or channel.linkedid in self._finished:
                return None  # late or repeated events of a call already finished
            call = self._start(channel, at)
            if call is None:
                return None
        is_caller = channel.uniqueid == call.uniqueid
        if is_caller:
            for name, value in channel.variables.items():
                if value:
                    call.variables[name] = value
            if not call.routed and call.variables.get("CC_ROUTE_REASON"):
                call.routed = True
                call.step(at, "routed", **self._decision(call))

        match event:
            case ev.QueueCallerJoin():
                call.queue = event.queue
                call.queued_at = at
                call.offered_at = call.offered_at or at
                call.step(at, "queued", queue=event.queue, position=event.position)
            case ev.AgentCalled():
                call.step(at, "ringing", queue=event.queue, agent_interface=event.interface)
            case ev.AgentRingNoAnswer():
                call.step(
                    at,
                    "no_answer",
                    queue=event.queue,
                    agent_interface=event.interface,
                    ring_ms=event.ring_time,
                )
            case ev.AgentConnect():
                call.agent_interface = event.interface
                call.answered_at = at
                call.step(
                    at,
                    "connected",
                    queue=event.queue,
                    agent_interface=event.interface,
                    hold_time=event.hold_time,
                )
            case ev.AgentComplete():
                call.hangup_by = {"caller": "caller", "agent": "agent"}.get(event.reason)
                call.step(
                    at,
                    "completed",
                    queue=event.queue,
                    agent_interface=event.interface,
                    reason=event.reason,
                    talk_time=event.talk_time,
                )
            case ev.QueueCallerAbandon():
                call.abandoned = True
                call.hangup_by = "caller"
                call.step(
                    at,
                    "abandoned",
                    queue=event.queue,
                    position=event.position,
                    hold_time=event.hold_time,
                )
            case ev.QueueCallerLeave():
                call.left_queue_at = at
                call.step(at, "left_queue", queue=event.queue, position=event.position)
            case ev.DialBegin() if is_caller and call.queued_at is None and event.dest:
                # the preferred agent rings before the call joins a queue
                call.direct_agent = interface_of(event.dest.name)
                call.offered_at = call.offered_at or at
                call.step(at, "ringing", agent_interface=call.direct_agent, direct=True)
            case ev.DialEnd() if is_caller and call.queued_at is None and call.direct_agent:
                if event.dial_status == "ANSWER":
                    call.agent_interface = call.direct_agent
                    call.answered_at = at
                    call.step(at, "connected", agent_interface=call.direct_agent, direct=True)
                else:
                    call.step(
                        at,
                        "no_answer",
                        agent_interface=call.direct_agent,
                        direct=True,
                        status=event.dial_status,
                    )
            case ev.Hangup() if is_caller:
                call.step(at, "hangup", cause=event.cause, cause_text=event.cause_text)
                del self._calls[call.linkedid]
                self._finished[call.linkedid] = None
                if len(self._finished) > FINISHED_MEMORY:
                    self._finished.popitem(last=False)
                return self._finish(call, at)
        return None

    @staticmethod
    def _decision(call: _Call) -> dict[str, Any]:
        """The routing decision as the channel variables carry it (see agi_route.py)."""
        names = {
            "CC_QUEUE": "queue",
            "CC_ROUTE_RULE": "rule",
            "CC_ROUTE_REASON": "reason",
            "CC_CANDIDATES": "other_candidates",
            "CC_PREFERRED_AGENT": "preferred_agent",
            "CC_AFTER_HOURS": "after_hours",
        }
        return {key: call.variables[name] for name, key in names.items() if name in call.variables}

    def _start(self, channel: ev.ChannelSnapshot, at: float) -> _Call | None:
        if channel.uniqueid != channel.linkedid or channel.context not in self._inbound:
            return None
        call = _Call(
            linkedid=channel.linkedid,
            uniqueid=channel.uniqueid,
            caller_number=channel.caller_num,
            caller_name=channel.caller_name,
            dialed_number=channel.exten,
            started_at=at,
        )
        call.step(at, "arrived", caller=channel.caller_num, dialed=channel.exten)
        self._calls[call.linkedid] = call
        return call

    def _finish(self, call: _Call, ended: float) -> FinishedCall:
        after_hours = call.variables.get("CC_AFTER_HOURS")
        if call.answered_at is not None:
            outcome = "answered"
        elif after_hours in AFTER_HOURS_OUTCOMES and call.queued_at is None:
            outcome = AFTER_HOURS_OUTCOMES[after_hours]
        elif call.abandoned:
            outcome = "abandoned"
        elif call.left_queue_at is not None:
            outcome = "timeout"
        elif call.offered_at is not None:
            outcome = "abandoned"
        else:
            outcome = "unqueued"
        wait_end = call.answered_at or call.left_queue_at or ended
        wait = wait_end - call.offered_at if call.offered_at is not None else None
        talk = ended - call.answered_at if call.answered_at is not None else None
        if call.answered_at is None and call.hangup_by is None:
            call.hangup_by = "caller" if outcome in {"abandoned", "unqueued"} else None
        return FinishedCall(
            node=self.node,
            linkedid=call.linkedid,
            uniqueid=call.uniqueid,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            dialed_number=call.dialed_number,
            customer_id=_customer_id(call.variables.get("CC_CUSTOMER_ID")),
            route_rule=call.variables.get("CC_ROUTE_RULE"),
            route_reason=call.variables.get("CC_ROUTE_REASON"),
            queue=call.queue or call.variables.get("CC_QUEUE"),
            agent_interface=call.agent_interface,
            started_at=_utc(call.started_at),
            answered_at=_utc(call.answered_at) if call.answered_at is not None else None,
            ended_at=_utc(ended),
            wait_seconds=round(wait, 3) if wait is not None else None,
            talk_seconds=round(talk, 3) if talk is not None else None,
            outcome=outcome,
            hangup_by=call.hangup_by,
            steps=tuple(call.steps),
        )
