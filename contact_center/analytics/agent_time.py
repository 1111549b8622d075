"""Agents' logged-in and pause time over a period, from the periods the bridge stores
(``agent_periods``), clipped to the period; a period still open runs to now."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.storage.models import AgentPeriod


@dataclasses.dataclass(frozen=True, slots=True)
class AgentTime:
    logged_in_seconds: float = 0.0
    paused_seconds: float = 0.0
    paused_by_reason: tuple[tuple[str, float], ...] = ()
    """(reason, seconds), the longest first."""


async def agent_time(
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime | None = None,
) -> dict[int, AgentTime]:
    """Each agent's (by user id) time logged in and paused within ``[since, until)``."""
    now = now or dt.datetime.now(dt.UTC)
    statement = select(
        AgentPeriod.user_id,
        AgentPeriod.kind,
        AgentPeriod.reason,
        AgentPeriod.started_at,
        AgentPeriod.ended_at,
    ).where(
        AgentPeriod.user_id.is_not(None),
        AgentPeriod.started_at < until,
        or_(AgentPeriod.ended_at.is_(None), AgentPeriod.ended_at > since),
    )
    logged: dict[int, float] = defaultdict(float)
    paused: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for user_id, kind, reason, started, ended in await session.execute(statement):
        if user_id is None:
            continue
        start = max(started, since)
        end = min(ended or now, until)
        seconds = max((end - start).total_seconds(), 0.0)
        if kind == "logged_in":
            logged[user_id] += seconds
        else:
            paused[user_id][reason] += seconds
    result = {}
    for user_id in set(logged) | set(paused):
        reasons = sorted(paused[user_id].items(), key=lambda item: (-item[1], item[0]))
        result[user_id] = AgentTime(
            logged_in_seconds=logged[user_id],
            paused_seconds=sum(seconds for _reason, seconds in reasons),
            paused_by_reason=tuple(reasons),
        )
    return result
