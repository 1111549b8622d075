"""Agents' logged-in and pause stretches, kept for reports (table ``agent_periods``).

``AgentPeriods.follow`` is pure: each agent state the bridge publishes in, the stretches it
opens or closes out (logged in: in at least one queue; paused: in every queue, with the
reason). ``AgentPeriodWriter`` writes them in order from a queue, one consumer, retrying
while the database is down; opening a stretch first closes one of the same kind left open
(by a bridge that stopped), so a restart never leaves two open."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.calls.agents import PAUSED, AgentState
from contact_center.storage.models import AgentPeriod, User

log = logging.getLogger(__name__)

BACKLOG = 10_000
"""Changes waiting for the database at most; beyond it the oldest are dropped (logged)."""


@dataclasses.dataclass(frozen=True, slots=True)
class PeriodChange:
    node: str
    agent_interface: str
    kind: str
    """``logged_in`` or ``paused``."""
    opens: bool
    at: dt.datetime
    reason: str = ""


class AgentPeriods:
    """What each agent phone was last seen doing: logged in or not, paused and why."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[bool, str | None]] = {}

    def follow(self, state: AgentState) -> list[PeriodChange]:
        logged_before, pause_before = self._seen.get(state.agent_interface, (False, None))
        logged_now = state.logged_in
        pause_now = (state.reason or "")[:80] if logged_now and state.state == PAUSED else None
        self._seen[state.agent_interface] = (logged_now, pause_now)
        at = dt.datetime.fromtimestamp(state.since, dt.UTC)

        def change(kind: str, opens: bool, reason: str = "") -> PeriodChange:
            return PeriodChange(state.node, state.agent_interface, kind, opens, at, reason)

        changes = []
        if pause_before is not None and pause_now != pause_before:
            changes.append(change("paused", False))
        if logged_before and not logged_now:
            changes.append(change("logged_in", False))
        if logged_now and not logged_before:
            changes.append(change("logged_in", True))
        if pause_now is not None and pause_now != pause_before:
            changes.append(change("paused", True, pause_now))
        return changes


async def apply_changes(session: AsyncSession, changes: list[PeriodChange]) -> None:
    """Close and open the stretches, in order (the caller commits)."""
    interfaces = {c.agent_interface for c in changes if c.opens}
    users: dict[str, int] = {}
    if interfaces:
        rows = await session.execute(
            select(User.interface, User.id).where(User.interface.in_(interfaces))
        )
        users = {interface: user_id for interface, user_id in rows if interface is not None}
    for c in changes:
        await session.execute(
            update(AgentPeriod)
            .where(
                AgentPeriod.node == c.node,
                AgentPeriod.agent_interface == c.agent_interface,
                AgentPeriod.kind == c.kind,
                AgentPeriod.ended_at.is_(None),
            )
            .values(ended_at=c.at)
        )
        if c.opens:
            await session.execute(
                insert(AgentPeriod).values(
                    node=c.node,
                    agent_interface=c.agent_interface,
                    user_id=users.get(c.agent_interface),
                    kind=c.kind,
                    reason=c.reason,
                    started_at=c.at,
                )
            )


class AgentPeriodWriter:
    """Follows published agent states and writes their stretches; ``run`` is the consumer."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._periods = AgentPeriods()
        self._queue: asyncio.Queue[PeriodChange] = asyncio.Queue()
        self._written = asyncio.Event()
        self._written.set()

    def follow(self, state: AgentState) -> None:
        for change in self._periods.follow(state):
            if self._queue.qsize() >= BACKLOG:
                dropped = self._queue.get_nowait()
                log.warning("agent periods: backlog full, dropped %s", dropped)
            self._queue.put_nowait(change)
            self._written.clear()

    async def written(self) -> None:
        """Return once every change followed so far is in the database."""
        await self._written.wait()

    async def run(self) -> None:
        delay = 0.5
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            while True:
                try:
                    async with self._sessions() as session, session.begin():
                        await apply_changes(session, batch)
                    break
                except (SQLAlchemyError, OSError) as err:
                    log.warning("agent periods: cannot write (retrying in %.1f s): %s", delay, err)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
            delay = 0.5
            if self._queue.empty():
                self._written.set()
