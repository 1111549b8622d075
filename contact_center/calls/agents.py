"""Agent state, without I/O: which queues each agent phone is logged in to, and what it is
doing in each (available, ringing, on a call, in wrap-up, paused with a reason).

Everything comes from Asterisk: QueueMemberAdded/Removed/Pause/Status events as they
happen, AgentComplete for the start of the wrap-up, and the QueueMember entries of a
QueueStatus listing after every (re)connect (`resync`). So a pause set from the phone, by a
supervisor in another session or on the Asterisk console shows exactly as one set from the
agent's own page. `handle`, `resync` and `expire` return the new `AgentState` of every
agent whose state changed; the bridge keeps it in the live state and publishes it.

Each membership keeps the facts Asterisk reports (paused and why, the device state, when
the wrap-up ends); its state is derived from them by one table of precedences
(`MEMBER_STATES`). An agent's overall state is the most pressing of its queues' states.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from contact_center.ami import events as ev
from contact_center.ami.codec import field

TOPIC: Final = "agent.state"

LOGGED_OUT: Final = "logged_out"
AVAILABLE: Final = "available"
RINGING: Final = "ringing"
ON_CALL: Final = "on_call"
WRAP_UP: Final = "wrap_up"
PAUSED: Final = "paused"
UNAVAILABLE: Final = "unavailable"
"""The phone is not registered (or not reachable): Asterisk rings it for no queue call."""

MEMBER_STATES: Final = (RINGING, ON_CALL, WRAP_UP, PAUSED, UNAVAILABLE, AVAILABLE)
"""A membership's states, most pressing first: a paused agent whose phone rings (a direct
call) is ringing; wrap-up outranks a pause made during it."""
STATES: Final = (*MEMBER_STATES, LOGGED_OUT)

# Asterisk device states (include/asterisk/devicestate.h), as QueueMember* Status reports them
_DEVICE_STATES: Final[dict[int, str | None]] = {
    0: None,  # unknown: no verdict, the other facts decide
    1: None,  # not in use
    2: ON_CALL,  # in use
    3: ON_CALL,  # busy
    4: UNAVAILABLE,  # invalid
    5: UNAVAILABLE,  # unavailable
    6: RINGING,  # ringing
    7: RINGING,  # ringing while in use
    8: ON_CALL,  # on hold
}


@dataclass(frozen=True, slots=True)
class Member:
    """The facts of one agent phone in one queue, as Asterisk last reported them."""

    queue: str
    interface: str
    member_name: str = ""
    paused: bool = False
    reason: str = ""
    device: int = 1
    in_call: bool = False
    calls_taken: int = 0
    wrapup_time: int = 0
    wrapup_until: float | None = None

    def state(self, now: float) -> str:
        device = _DEVICE_STATES.get(self.device)
        if device in (RINGING, ON_CALL):
            return device
        if self.in_call:
            return ON_CALL
        if self.wrapup_until is not None and now < self.wrapup_until:
            return WRAP_UP
        if self.paused:
            return PAUSED
        return device or AVAILABLE


@dataclass(frozen=True, slots=True)
class QueueState:
    queue: str
    state: str
    since: float
    reason: str = ""
    """Why the agent is paused in this queue (empty when not paused)."""
    paused: bool = False
    calls_taken: int = 0
    wrapup_until: float | None = None


@dataclass(frozen=True, slots=True)
class AgentState:
    """What one agent phone is doing: overall and in each queue it is logged in to.

    `since` is when the overall state began (seconds since the epoch): the page counts the
    time in state from it."""

    agent_interface: str
    node: str
    state: str
    since: float
    reason: str = ""
    queues: tuple[QueueState, ...] = ()

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"agent.state: state must be one of {', '.join(STATES)}")

    @property
    def logged_in(self) -> bool:
        return bool(self.queues)

    def to_data(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every value (see AgentCall.to_data)
        data = {name: getattr(self, name) for name in self.__slots__}
        data["queues"] = [{name: getattr(q, name) for name in q.__slots__} for q in self.queues]
        return data

    def encode(self) -> str:
        return json.dumps(self.to_data(), ensure_ascii=False)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AgentState:
        """Checked: raises ValueError on anything malformed."""
        try:
            queues = tuple(
                QueueState(
                    queue=str(q["queue"]),
                    state=str(q["state"]),
                    since=float(q["since"]),
                    reason=str(q.get("reason") or ""),
                    paused=bool(q.get("paused")),
                    calls_taken=int(q.get("calls_taken") or 0),
                    wrapup_until=None
                    if q.get("wrapup_until") is None
                    else float(q["wrapup_until"]),
                )
                for q in data.get("queues") or ()
            )
            return cls(
                agent_interface=str(data["agent_interface"]),
                node=str(data["node"]),
                state=str(data["state"]),
                since=float(data["since"]),
                reason=str(data.get("reason") or ""),
                queues=queues,
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"agent.state: malformed ({err})") from err

    @classmethod
    def decode(cls, raw: str | bytes) -> AgentState:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("agent.state: not an object")
        return cls.from_data(value)


def member_from_status(entry: Mapping[str, str]) -> Member | None:
    """A QueueMember entry of a QueueStatus listing as a Member (None if it is not one)."""
    queue = field(entry, "Queue")
    interface = field(entry, "Location") or field(entry, "Interface")
    if field(entry, "Event").lower() != "queuemember" or not queue or not interface:
        return None
    return Member(
        queue=queue,
        interface=interface,
        member_name=field(entry, "Name") or field(entry, "MemberName"),
        paused=field(entry, "Paused") in ("1", "true", "yes"),
        reason=field(entry, "PausedReason"),
        device=_integer(field(entry, "Status")),
        in_call=field(entry, "InCall") in ("1", "true", "yes"),
        calls_taken=_integer(field(entry, "CallsTaken")),
        wrapup_time=_integer(field(entry, "Wrapuptime")),
    )


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _member_of(event: ev.QueueMemberAdded | ev.QueueMemberStatus | ev.QueueMemberPause) -> Member:
    return Member(
        queue=event.queue,
        interface=event.interface,
        member_name=event.member_name,
        paused=event.paused,
        reason=event.pause_reason if event.paused else "",
        device=event.status,
        in_call=event.in_call,
        calls_taken=event.calls_taken,
        wrapup_time=event.wrapup_time,
    )


@dataclass(slots=True)
class _Shown:
    state: str
    since: float
    reason: str


class AgentStates:
    """Every agent phone's state on one node."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._members: dict[str, dict[str, Member]] = {}
        """interface -> queue -> member."""
        self._queue_shown: dict[tuple[str, str], _Shown] = {}
        self._shown: dict[str, _Shown] = {}
        self.wrapup: dict[str, int] = {}
        """Queue -> its wrapuptime (seconds), for members without one of their own: Asterisk
        reports a member's own wrapuptime but not the queue's (the bridge reads it from the
        queues table)."""

    # --- input ---------------------------------------------------------------------------

    def handle(self, event: ev.AmiEvent, now: float) -> list[AgentState]:
        """The agents whose state `event` changed (most events change nothing)."""
        at = event.timestamp or now
        if isinstance(event, ev.QueueMemberRemoved):
            queues = self._members.get(event.interface)
            if queues is None or queues.pop(event.queue, None) is None:
                return []
            if not queues:
                del self._members[event.interface]
            return self._changed([event.interface], at)
        if isinstance(event, ev.QueueMemberAdded | ev.QueueMemberStatus | ev.QueueMemberPause):
            member = _member_of(event)
            kept = self._members.get(event.interface, {}).get(event.queue)
            if kept is not None:
                member = dataclasses.replace(member, wrapup_until=kept.wrapup_until)
            self._members.setdefault(event.interface, {})[event.queue] = member
            return self._changed([event.interface], at)
        if isinstance(event, ev.AgentComplete):
            kept = self._members.get(event.interface, {}).get(event.queue)
            seconds = kept.wrapup_time or self.wrapup.get(event.queue, 0) if kept else 0
            if kept is None or seconds <= 0:
                return []
            self._members[event.interface][event.queue] = dataclasses.replace(
                kept, wrapup_until=at + seconds
            )
            return self._changed([event.interface], at)
        return []

    def resync(self, entries: Iterable[Mapping[str, str]], now: float) -> list[AgentState]:
        """Asterisk's members now (the QueueStatus listing after a (re)connect) replace what
        was known: an agent removed while the link was down shows as logged out."""
        fresh: dict[str, dict[str, Member]] = {}
        for entry in entries:
            member = member_from_status(entry)
            if member is None:
                continue
            kept = self._members.get(member.interface, {}).get(member.queue)
            if kept is not None:
                member = dataclasses.replace(member, wrapup_until=kept.wrapup_until)
            fresh.setdefault(member.interface, {})[member.queue] = member
        touched = set(self._members) | set(fresh) | set(self._shown)
        self._members = fresh
        return self._changed(sorted(touched), now)

    def expire(self, now: float) -> list[AgentState]:
        """The agents whose wrap-up ended by `now`."""
        ended = [
            interface
            for interface, queues in self._members.items()
            if any(m.wrapup_until is not None and m.wrapup_until <= now for m in queues.values())
        ]
        for interface in ended:
            queues = self._members[interface]
            for queue, member in queues.items():
                if member.wrapup_until is not None and member.wrapup_until <= now:
                    queues[queue] = dataclasses.replace(member, wrapup_until=None)
        return self._changed(ended, now)

    # --- output --------------------------------------------------------------------------

    def state(self, interface: str, now: float) -> AgentState:
        """The state of `interface` now (logged out if Asterisk has it in no queue)."""
        shown = self._shown.get(interface)
        queues = tuple(
            self._queue_state(interface, member, now)
            for _, member in sorted(self._members.get(interface, {}).items())
        )
        if shown is None:
            return AgentState(interface, self.node, LOGGED_OUT, now, "", queues)
        return AgentState(interface, self.node, shown.state, shown.since, shown.reason, queues)

    def states(self, now: float) -> list[AgentState]:
        return [self.state(interface, now) for interface in sorted(self._members)]

    def next_wrapup_end(self) -> float | None:
        ends = [
            m.wrapup_until
            for queues in self._members.values()
            for m in queues.values()
            if m.wrapup_until is not None
        ]
        return min(ends, default=None)

    def _queue_state(self, interface: str, member: Member, now: float) -> QueueState:
        shown = self._queue_shown.get((interface, member.queue))
        state = member.state(now)
        since = shown.since if shown is not None and shown.state == state else now
        return QueueState(
            queue=member.queue,
            state=state,
            since=since,
            reason=member.reason if member.paused else "",
            paused=member.paused,
            calls_taken=member.calls_taken,
            wrapup_until=member.wrapup_until,
        )

    def _changed(self, interfaces: Iterable[str], at: float) -> list[AgentState]:
        changed: list[AgentState] = []
        for interface in interfaces:
            queues = self._members.get(interface, {})
            before_queues = {
                q: (s.state, s.reason) for (i, q), s in self._queue_shown.items() if i == interface
            }
            after_queues: dict[str, tuple[str, str]] = {}
            for queue, member in queues.items():
                state = member.state(at)
                reason = member.reason if member.paused else ""
                after_queues[queue] = (state, reason)
                kept = self._queue_shown.get((interface, queue))
                if kept is None or kept.state != state:
                    self._queue_shown[(interface, queue)] = _Shown(state, at, reason)
                else:
                    kept.reason = reason
            for queue in set(before_queues) - set(queues):
                del self._queue_shown[(interface, queue)]
            state, reason = _overall(after_queues.values())
            shown = self._shown.get(interface)
            overall_changed = shown is None or (shown.state, shown.reason) != (state, reason)
            if overall_changed:
                since = at if shown is None or shown.state != state else shown.since
                self._shown[interface] = _Shown(state, since, reason)
            if overall_changed or before_queues != after_queues:
                changed.append(self._snapshot(interface))
            if not queues:
                self._shown.pop(interface, None)
        return changed

    def _snapshot(self, interface: str) -> AgentState:
        shown = self._shown[interface]
        queues = tuple(
            QueueState(
                queue=queue,
                state=self._queue_shown[(interface, queue)].state,
                since=self._queue_shown[(interface, queue)].since,
                reason=member.reason if member.paused else "",
                paused=member.paused,
                calls_taken=member.calls_taken,
                wrapup_until=member.wrapup_until,
            )
            for queue, member in sorted(self._members.get(interface, {}).items())
        )
        return AgentState(interface, self.node, shown.state, shown.since, shown.reason, queues)


def _overall(queues: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The most pressing state of an agent's queues; paused only when paused in all of them
    (an agent paused in one queue still takes the others' calls)."""
    found = list(queues)
    if not found:
        return LOGGED_OUT, ""
    states = {state for state, _ in found}
    for state in (RINGING, ON_CALL, WRAP_UP):
        if state in states:
            return state, ""
    if states == {PAUSED}:
        reasons = sorted({reason for _, reason in found})
        return PAUSED, reasons[0] if len(reasons) == 1 else ", ".join(r for r in reasons if r)
    if AVAILABLE in states:
        return AVAILABLE, ""
    if UNAVAILABLE in states:
        return UNAVAILABLE, ""
    return PAUSED, ""
