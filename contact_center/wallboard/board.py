"""What the wallboard shows, without I/O: one tile per queue, one row per agent.

`build_board` takes what the live state holds (callers waiting per queue, every logged-in
agent phone's state and current call), today's figures (from `contact_center/analytics`,
read by `wallboard/figures.py`), the queues' alert thresholds and the agents' names, and
returns a `Board` of frozen values. The feed (`wallboard/feed.py`) compares a new board
with the last one tile by tile and pushes only what changed.

Times are kept as instants (`oldest_since`, `since`: seconds since the epoch), never as
durations, so a tile does not change every second: the page counts on by itself. Only the
alert level of a tile depends on the clock (a caller waiting past a threshold turns the
tile amber without any event): `build_board` takes `now` for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from contact_center.bus import AgentCall, QueueLoad
from contact_center.calls.agents import (
    AVAILABLE,
    ON_CALL,
    PAUSED,
    RINGING,
    UNAVAILABLE,
    WRAP_UP,
    AgentState,
)

OK: Final = "ok"
AMBER: Final = "amber"
RED: Final = "red"
LEVELS: Final = (OK, AMBER, RED)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a queue's tile turns amber or red: callers waiting at or above, the longest wait
    (seconds) at or above, today's service level (0..1) below. None: no alert on it."""

    waiting_amber: int | None = 3
    waiting_red: int | None = 6
    longest_wait_amber: float | None = 60.0
    longest_wait_red: float | None = 120.0
    service_level_amber: float | None = 0.8
    service_level_red: float | None = 0.6


DEFAULT_THRESHOLDS: Final = Thresholds()


@dataclass(frozen=True, slots=True)
class Today:
    """Today's figures of a queue or an agent, as `contact_center.analytics` counts them
    (this is only their carrier: the definitions live there). Rates and averages are None
    when there is nothing to divide by."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    abandon_rate: float | None = None
    service_level: float | None = None
    asa: float | None = None
    aht: float | None = None


NO_FIGURES: Final = Today()


@dataclass(frozen=True, slots=True)
class QueueTile:
    queue: str
    name: str
    waiting: int
    oldest_since: float | None
    """When the longest-waiting caller joined (None: nobody waits)."""
    logged_in: int
    available: int
    ringing: int
    on_call: int
    wrap_up: int
    unavailable: int
    paused: tuple[tuple[str, int], ...]
    """(reason, agents) of the agents paused in this queue, by reason."""
    today: Today
    service_level_seconds: int
    level: str
    alerts: tuple[str, ...] = ()
    """What is past a threshold: "waiting", "longest_wait", "service_level"."""

    @property
    def paused_total(self) -> int:
        return sum(count for _, count in self.paused)


@dataclass(frozen=True, slots=True)
class AgentRow:
    interface: str
    name: str
    user_id: int | None
    state: str
    since: float
    reason: str
    queues: tuple[str, ...]
    calls_today: int
    aht: float | None
    caller_name: str | None = None
    caller_number: str | None = None
    call_state: str | None = None

    @property
    def key(self) -> str:
        """A stable id for the row's element (an interface is letters, digits, / and -)."""
        return "".join(c if c.isalnum() else "-" for c in self.interface)


@dataclass(frozen=True, slots=True)
class Agent:
    """Who answers on a phone (from the users table)."""

    user_id: int
    name: str


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """A queue as the board knows it (from the queues table)."""

    name: str
    display_name: str
    service_level_seconds: int
    thresholds: Thresholds = DEFAULT_THRESHOLDS


@dataclass(frozen=True, slots=True)
class Abandoned:
    """A caller on the abandoned-call worklist (`wallboard/worklist.py`): their last call."""

    interaction_id: int
    started_at: dt.datetime
    queue: str
    caller_e164: str | None
    caller_number: str
    caller_name: str
    customer_id: int | None
    customer_name: str | None
    wait_seconds: float | None
    assigned_to: str | None
    """The display name of the agent the callback task is assigned to, if any."""
    task_id: int | None


@dataclass(frozen=True, slots=True)
class Board:
    queues: tuple[QueueTile, ...]
    agents: tuple[AgentRow, ...]
    totals: Today = field(default=NO_FIGURES)
    intervals: tuple[tuple[str, int, int], ...] = ()
    """Today's offered and answered calls per interval, for the chart: (local start as
    "HH:MM", offered, answered)."""
    abandoned: tuple[Abandoned, ...] = ()


def level_of(
    thresholds: Thresholds, waiting: int, longest_wait: float, service_level: float | None
) -> tuple[str, tuple[str, ...]]:
    """The tile's level (the worst of its alerts) and which figures are past a threshold."""
    found: dict[str, str] = {}

    def at_least(name: str, value: float, amber: float | None, red: float | None) -> None:
        if red is not None and value >= red:
            found[name] = RED
        elif amber is not None and value >= amber:
            found[name] = AMBER

    at_least("waiting", waiting, thresholds.waiting_amber, thresholds.waiting_red)
    at_least(
        "longest_wait", longest_wait, thresholds.longest_wait_amber, thresholds.longest_wait_red
    )
    if service_level is not None:
        if (
            thresholds.service_level_red is not None
            and service_level < thresholds.service_level_red
        ):
            found["service_level"] = RED
        elif (
            thresholds.service_level_amber is not None
            and service_level < thresholds.service_level_amber
        ):
            found["service_level"] = AMBER
    level = RED if RED in found.values() else AMBER if found else OK
    return level, tuple(sorted(found))


def build_board(
    *,
    loads: Mapping[str, QueueLoad],
    states: Iterable[AgentState],
    calls: Mapping[str, AgentCall],
    queue_today: Mapping[str, Today],
    agent_today: Mapping[int, Today],
    queues: Mapping[str, QueueInfo],
    agents: Mapping[str, Agent],
    now: float,
    totals: Today = NO_FIGURES,
    intervals: tuple[tuple[str, int, int], ...] = (),
    abandoned: tuple[Abandoned, ...] = (),
) -> Board:
    """The board now. A queue gets a tile when the queues table knows it, a caller waits in
    it, an agent is logged in to it or it was offered a call today."""
    states = list(states)
    names = set(queues) | set(loads) | set(queue_today)
    for state in states:
        names.update(q.queue for q in state.queues)
    tiles = tuple(
        _tile(name, queues.get(name), loads.get(name), states, queue_today.get(name), now)
        for name in sorted(names)
    )
    rows = tuple(
        _row(
            state, agents.get(state.agent_interface), calls.get(state.agent_interface), agent_today
        )
        for state in sorted(states, key=lambda s: s.agent_interface)
    )
    return Board(tiles, rows, totals, intervals, abandoned)


def _tile(
    name: str,
    info: QueueInfo | None,
    load: QueueLoad | None,
    states: list[AgentState],
    today: Today | None,
    now: float,
) -> QueueTile:
    counts = dict.fromkeys((AVAILABLE, RINGING, ON_CALL, WRAP_UP, UNAVAILABLE), 0)
    paused: dict[str, int] = {}
    logged_in = 0
    for state in states:
        for member in state.queues:
            if member.queue != name:
                continue
            logged_in += 1
            if member.state == PAUSED:
                paused[member.reason] = paused.get(member.reason, 0) + 1
            elif member.state in counts:
                counts[member.state] += 1
    waiting = load.waiting if load else 0
    longest = load.longest_wait if load and load.waiting else 0.0
    today = today or NO_FIGURES
    thresholds = info.thresholds if info else DEFAULT_THRESHOLDS
    level, alerts = level_of(thresholds, waiting, longest, today.service_level)
    return QueueTile(
        queue=name,
        name=info.display_name if info else name,
        waiting=waiting,
        oldest_since=round(now - longest, 1) if waiting else None,
        logged_in=logged_in,
        available=counts[AVAILABLE],
        ringing=counts[RINGING],
        on_call=counts[ON_CALL],
        wrap_up=counts[WRAP_UP],
        unavailable=counts[UNAVAILABLE],
        paused=tuple(sorted(paused.items())),
        today=today,
        service_level_seconds=info.service_level_seconds if info else 20,
        level=level,
        alerts=alerts,
    )


def _row(
    state: AgentState, agent: Agent | None, call: AgentCall | None, today: Mapping[int, Today]
) -> AgentRow:
    figures = today.get(agent.user_id, NO_FIGURES) if agent else NO_FIGURES
    return AgentRow(
        interface=state.agent_interface,
        name=agent.name if agent else state.agent_interface,
        user_id=agent.user_id if agent else None,
        state=state.state,
        since=state.since,
        reason=state.reason,
        queues=tuple(q.queue for q in state.queues),
        calls_today=figures.answered,
        aht=figures.aht,
        caller_name=call.caller_name if call else None,
        caller_number=call.caller_number if call else None,
        call_state=call.state if call else None,
    )
