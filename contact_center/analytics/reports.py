"""A report over any period: the figures of contact_center.analytics.metrics by interval,
queue, agent and caller, the weekday-by-hour heatmap and the customers' behaviour.

A few grouped queries, each one scan of the period's rows (by the index on started_at);
hours are grouped in UTC by the database and rolled up into local hours, days, weeks and
the heatmap here (``metrics.hour_bucket``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, null, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.analytics import metrics
from contact_center.analytics.agent_time import AgentTime, agent_time
from contact_center.analytics.metrics import (
    CallerFigures,
    Figures,
    Filters,
    QueueFigures,
    Sums,
    add_up,
    figure_columns,
    offered_calls,
)
from contact_center.storage.models import Interaction, User

INTERVALS = ("hour", "day", "week")
MAX_DAYS = 731
WORK_MEM = "64MB"
"""PostgreSQL's memory for sorts and hashes in a report's queries (per query, at most five
at a time): a month of calls sorts in memory instead of on disk."""
"""The longest period a report covers (two years)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first`` to ``last`` (inclusive) in ``timezone``; ``since``/``until`` are
    the UTC instants that bound them."""

    first: dt.date
    last: dt.date
    timezone: str
    since: dt.datetime
    until: dt.datetime

    @classmethod
    def of_days(cls, first: dt.date, last: dt.date, tz: ZoneInfo) -> Period:
        if last < first:
            raise ValueError("the period ends before it starts")
        if (last - first).days >= MAX_DAYS:
            raise ValueError(f"a report covers {MAX_DAYS} days at most")
        since = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC)
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
        return cls(first, last, tz.key, since, until)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def auto_interval(self) -> str:
        if self.days <= 2:
            return "hour"
        return "day" if self.days <= 62 else "week"


@dataclasses.dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: int
    name: str
    figures: Figures
    time: AgentTime

    @property
    def occupancy(self) -> float | None:
        return metrics.occupancy(
            self.figures.handle_seconds, self.time.logged_in_seconds, self.time.paused_seconds
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Count:
    label: str
    calls: int


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    tier: str
    """Customer tier, or "unknown" for callers who are not customers."""
    calls: int
    customers: int

    @property
    def calls_per_customer(self) -> float | None:
        return self.calls / self.customers if self.customers else None


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    period: Period
    filters: Filters
    interval: str
    totals: Figures
    intervals: list[tuple[dt.datetime, Figures]]
    """(local start of the hour/day/week, figures), every interval of the period."""
    heatmap: list[list[int]]
    """Offered calls by local weekday (0 = Monday) and hour."""
    queues: list[QueueFigures]
    agents: list[AgentRow]
    callers: CallerFigures
    segments: list[Segment]
    contacts_per_customer: list[Count]
    """How many customers called once, twice, 3-5, 6-10, more than 10 times."""
    routing: list[Count]
    dispositions: list[Count]


def _interval_start(moment: dt.datetime, interval: str, tz: ZoneInfo) -> dt.datetime:
    local = moment.astimezone(tz)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    return dt.datetime.combine(day, dt.time(), tz)


def _every_interval(period: Period, interval: str, tz: ZoneInfo) -> list[dt.datetime]:
    starts: list[dt.datetime] = []
    if interval == "hour":
        moment = period.since
        while moment < period.until:
            starts.append(_interval_start(moment, "hour", tz))
            moment += dt.timedelta(hours=1)
        return starts
    day = period.first
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    step = dt.timedelta(days=7 if interval == "week" else 1)
    while day <= period.last:
        starts.append(dt.datetime.combine(day, dt.time(), tz))
        day += step
    return starts


CONTACT_BUCKETS = ((1, 1, "1"), (2, 2, "2"), (3, 5, "3-5"), (6, 10, "6-10"), (11, None, "11+"))


Sessions = async_sessionmaker[AsyncSession]


@contextlib.asynccontextmanager
async def _reading(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session for one of the report's queries; on PostgreSQL with room to sort and hash
    a month of calls in memory (``work_mem`` for this transaction only)."""
    async with sessions() as session, session.begin():
        if await metrics.dialect_of(session) == "postgresql":
            await session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        yield session


async def build_report(
    sessions: Sessions,
    period: Period,
    filters: Filters = metrics.NO_FILTERS,
    interval: str | None = None,
    tz: ZoneInfo | None = None,
    at_once: bool = True,
) -> Report:
    """Everything a report shows, for the period and filters: its queries run at once, each
    in a session of its own (``at_once=False``: one after the other)."""
    interval = interval or period.auto_interval()
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    if tz is None:
        tz = await asyncio.to_thread(ZoneInfo, period.timezone)  # reads a file
    parts = (
        _hours(sessions, period, filters, interval, tz),
        _agent_times(sessions, period, filters),
        _fcr(sessions, period, filters),
        _customers(sessions, period, filters),
        _routing_and_dispositions(sessions, period, filters),
    )
    if at_once:
        async with asyncio.TaskGroup() as tasks:
            started = [tasks.create_task(part) for part in parts]
        results: list[Any] = [task.result() for task in started]
    else:
        results = []
        try:
            for part in parts:
                results.append(await part)
        finally:
            for unstarted in parts[len(results) + 1 :]:
                unstarted.close()
    hours, agent_times, fcr, customers, counts = results
    intervals, heatmap, queues, agent_figures = hours
    segments, contacts, (callers, repeaters, repeat_calls) = customers
    answered_identified, resolved = fcr
    routing, dispositions = counts
    return Report(
        period=period,
        filters=filters,
        interval=interval,
        totals=add_up(item.figures for item in queues),
        intervals=intervals,
        heatmap=heatmap,
        queues=queues,
        agents=_agent_rows(agent_figures, *agent_times),
        callers=CallerFigures(answered_identified, resolved, callers, repeaters, repeat_calls),
        segments=segments,
        contacts_per_customer=contacts,
        routing=routing,
        dispositions=dispositions,
    )


async def _hours(
    sessions: Sessions, period: Period, filters: Filters, interval: str, tz: ZoneInfo
) -> tuple[
    list[tuple[dt.datetime, Figures]], list[list[int]], list[QueueFigures], dict[int, Figures]
]:
    """Calls by interval, the heatmap and each queue (grouped by UTC hour and queue), and each
    agent's answered calls: on PostgreSQL one scan (GROUPING SETS), on SQLite two."""
    by_interval: dict[dt.datetime, Sums] = {
        start: Sums() for start in _every_interval(period, interval, tz)
    }
    by_queue: dict[tuple[str, int], Sums] = defaultdict(Sums)
    by_agent: dict[int, Figures] = {}
    heatmap = [[0] * 24 for _ in range(7)]
    async with _reading(sessions) as session:
        dialect = await metrics.dialect_of(session)
        hour = metrics.hour_bucket(dialect).label("hour")
        threshold = metrics.service_level_threshold().label("threshold")
        agent = case((metrics.answered(), Interaction.agent_id), else_=null()).label("agent")
        if dialect == "postgresql":
            by_hours = func.grouping(agent).label("by_hours")
            statement = offered_calls(
                [hour, Interaction.queue, threshold, agent, by_hours, *figure_columns()],
                period.since,
                period.until,
                filters,
            ).group_by(
                func.grouping_sets(tuple_(hour, Interaction.queue, threshold), tuple_(agent))
            )
            rows = (await session.execute(statement)).mappings().all()
            hour_rows = [row for row in rows if row["by_hours"]]
            agent_rows = [row for row in rows if not row["by_hours"]]
        else:
            statement = offered_calls(
                [hour, Interaction.queue, threshold, *figure_columns()],
                period.since,
                period.until,
                filters,
            ).group_by(hour, Interaction.queue, threshold)
            hour_rows = list((await session.execute(statement)).mappings().all())
            agents = offered_calls(
                [agent, *figure_columns()], period.since, period.until, filters
            ).group_by(agent)
            agent_rows = list((await session.execute(agents)).mappings().all())
    interval_of: dict[object, tuple[dt.datetime, int, int]] = {}
    for row in hour_rows:
        sums = Sums.of_row(row)
        if row["hour"] not in interval_of:  # each hour's place, worked out once
            start = metrics.bucket_time(row["hour"])
            local = start.astimezone(tz)
            interval_of[row["hour"]] = (
                _interval_start(start, interval, tz),
                local.weekday(),
                local.hour,
            )
        key, weekday, local_hour = interval_of[row["hour"]]
        by_interval.setdefault(key, Sums()).add(sums)
        by_queue[(str(row["queue"]), int(row["threshold"]))].add(Sums.of_row(row))
        heatmap[weekday][local_hour] += int(row["offered"])
    for row in agent_rows:
        if row["agent"] is not None:
            by_agent[int(row["agent"])] = Figures.from_row(row)
    queues = [
        QueueFigures(name, seconds, Figures.from_sums(sums))
        for (name, seconds), sums in sorted(by_queue.items())
    ]
    intervals = [(start, Figures.from_sums(sums)) for start, sums in sorted(by_interval.items())]
    return intervals, heatmap, queues, by_agent


async def _fcr(sessions: Sessions, period: Period, filters: Filters) -> tuple[int, int]:
    async with _reading(sessions) as session:
        return await metrics.fcr_counts(session, period.since, period.until, filters)


async def _routing_and_dispositions(
    sessions: Sessions, period: Period, filters: Filters
) -> tuple[list[Count], list[Count]]:
    async with _reading(sessions) as session:
        routing = await _counts(session, period, filters, Interaction.route_rule, metrics.is_call())
        dispositions = await _counts(
            session, period, filters, Interaction.disposition, metrics.answered()
        )
    return routing, dispositions


async def _agent_times(
    sessions: Sessions, period: Period, filters: Filters
) -> tuple[dict[int, AgentTime], dict[int, str]]:
    """Each agent's logged-in and pause time, and every user's name."""
    async with _reading(sessions) as session:
        times = await agent_time(session, period.since, period.until)
        names = dict((await session.execute(select(User.id, User.display_name))).all())
    if filters.agent_id is not None:
        times = {k: v for k, v in times.items() if k == filters.agent_id}
    return times, names


def _agent_rows(
    figures: dict[int, Figures], times: dict[int, AgentTime], names: dict[int, str]
) -> list[AgentRow]:
    """A row per agent who answered a call of the report or was logged in during it."""
    rows = [
        AgentRow(
            agent_id,
            str(names.get(agent_id, agent_id)),
            figures.get(agent_id, Figures()),
            times.get(agent_id, AgentTime()),
        )
        for agent_id in set(figures) | set(times)
    ]
    return sorted(rows, key=lambda row: (-row.figures.answered, row.name))


async def _customers(
    sessions: Sessions, period: Period, filters: Filters
) -> tuple[list[Segment], list[Count], tuple[int, int, int]]:
    """Customers by segment, contacts per customer and repeat callers, from one pass over
    ``metrics.per_caller``: how many callers of each tier made how many calls."""
    callers = metrics.per_caller(period.since, period.until, filters).subquery()
    is_customer = callers.c.customer_id.is_not(None)
    known = or_(is_customer, callers.c.number.is_not(None))
    statement = select(
        callers.c.tier,
        case((is_customer, 1), else_=0),
        case((known, 1), else_=0),
        callers.c.calls,
        func.count(),
    ).group_by(callers.c.tier, is_customer, known, callers.c.calls)
    async with _reading(sessions) as session:
        rows = (await session.execute(statement)).all()
    calls_by_tier: dict[str, int] = defaultdict(int)
    customers_by_tier: dict[str, int] = defaultdict(int)
    contacts: dict[str, int] = defaultdict(int)
    found = repeaters = repeat_calls = 0
    for tier, customer, identified, calls, how_many in rows:
        segment = str(tier) if tier is not None else "unknown"
        calls_by_tier[segment] += calls * how_many
        if customer:
            customers_by_tier[segment] += how_many
            contacts[_contact_bucket(calls)] += how_many
        if identified:
            found += how_many
            if calls >= metrics.REPEAT_CALLS:
                repeaters += how_many
                repeat_calls += calls * how_many
    segments = [
        Segment(tier, calls_by_tier[tier], customers_by_tier[tier])
        for tier in sorted(calls_by_tier)
    ]
    buckets = [Count(label, contacts[label]) for _low, _high, label in CONTACT_BUCKETS]
    return segments, buckets, (found, repeaters, repeat_calls)


def _contact_bucket(calls: int) -> str:
    for low, high, label in CONTACT_BUCKETS:
        if calls >= low and (high is None or calls <= high):
            return label
    raise ValueError(f"no bucket for {calls} calls")


async def _counts(
    session: AsyncSession,
    period: Period,
    filters: Filters,
    column: Any,
    condition: Any,
    limit: int = 15,
) -> list[Count]:
    """Calls by ``column``'s value (most first): routing rules over every call of the
    period, dispositions over answered calls."""
    value = func.coalesce(column, "").label("value")
    statement = (
        select(value, func.count().label("calls"))
        .select_from(Interaction)
        .where(metrics.is_call(), metrics.in_period(period.since, period.until), condition)
        .where(*filters.conditions())
        .group_by(value)
        .order_by(func.count().desc(), value)
        .limit(limit)
    )
    return [Count(str(label), int(calls)) for label, calls in await session.execute(statement)]
