"""Where the board's inputs come from: the live state (memory or Redis, the same in every
process) and the database (queues, agents' names, today's figures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.bus import AgentCall, LiveState, QueueLoad
from contact_center.calls.agents import AgentState
from contact_center.storage.models import Queue, User
from contact_center.wallboard.board import Abandoned, Agent, QueueInfo, Thresholds, Today


@dataclass(frozen=True, slots=True)
class Live:
    loads: dict[str, QueueLoad]
    states: list[AgentState]
    calls: dict[str, AgentCall]


async def read_live(live: LiveState) -> Live:
    """What every bridge last said: callers waiting, agent phones, their calls.
    Raises BusUnavailable (Redis down) or ValueError (a malformed entry)."""
    loads = await live.queue_loads()
    states = await live.agent_states()
    calls = await live.agent_calls([s.agent_interface for s in states])
    return Live(loads, states, calls)


@dataclass(frozen=True, slots=True)
class Figures:
    """Today's figures: per queue, per agent (user id), all queues together, and the
    offered/answered calls per interval for the chart."""

    queues: dict[str, Today] = field(default_factory=dict)
    agents: dict[int, Today] = field(default_factory=dict)
    totals: Today = field(default_factory=Today)
    intervals: tuple[tuple[str, int, int], ...] = ()
    """(local start "HH:MM", offered, answered) per interval, in order."""
    abandoned: tuple[Abandoned, ...] = ()
    """The abandoned-call worklist, oldest first."""


FiguresReader = Callable[[AsyncSession, dt.datetime, dt.datetime], Awaitable[Figures]]


async def no_figures(session: AsyncSession, since: dt.datetime, until: dt.datetime) -> Figures:
    return Figures()


@dataclass(frozen=True, slots=True)
class Directory:
    queues: dict[str, QueueInfo]
    agents: dict[str, Agent]
    """By phone interface."""


async def read_directory(sessions: async_sessionmaker[AsyncSession]) -> Directory:
    async with sessions() as session:
        queue_rows = (await session.execute(select(Queue))).scalars().all()
        user_rows = (
            await session.execute(
                select(User.id, User.display_name, User.interface).where(
                    User.interface.is_not(None)
                )
            )
        ).all()
    queues = {
        q.name: QueueInfo(q.name, q.display_name, q.service_level_seconds, thresholds_of(q))
        for q in queue_rows
    }
    agents = {str(interface): Agent(user_id, name) for user_id, name, interface in user_rows}
    return Directory(queues, agents)


def thresholds_of(queue: Queue) -> Thresholds:
    """The queue's alert thresholds, as stored with it (NULL: no alert on that figure)."""
    return Thresholds(
        waiting_amber=queue.alert_waiting_amber,
        waiting_red=queue.alert_waiting_red,
        longest_wait_amber=queue.alert_longest_wait_amber,
        longest_wait_red=queue.alert_longest_wait_red,
        service_level_amber=queue.alert_service_level_amber,
        service_level_red=queue.alert_service_level_red,
    )


def local_midnight(now: dt.datetime, timezone: str) -> dt.datetime:
    """The start of today in the center's time zone, as an aware UTC instant."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
    return midnight.astimezone(dt.UTC)
