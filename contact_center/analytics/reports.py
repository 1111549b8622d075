"""A report over any period: the figures of contact_center.analytics.metrics by interval,
queue, agent and caller, the weekday-by-hour heatmap and the customers' behaviour.

A few grouped queries, each one scan of the period's rows (by the index on started_at);
hours are grouped in UTC by the database and rolled up into local hours, days, weeks and
the heatmap here (``metrics.hour_bucket``)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, distinct, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.analytics import metrics
from contact_center.analytics.agent_time import AgentTime, agent_time
from contact_center.analytics.metrics import (
    CallerFigures,
    Figures,
    Filters,
    QueueFigures,
    add_up,
    figure_columns,
    offered_calls,
)
from contact_center.storage.models import Customer, Interaction, User

INTERVALS = ("hour", "day", "week")
MAX_DAYS = 731
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
        available = self.time.logged_in_seconds - self.time.paused_seconds
        return self.figures.handle_seconds / available if available > 0 else None


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


async def build_report(
    session: AsyncSession,
    period: Period,
    filters: Filters = metrics.NO_FILTERS,
    interval: str | None = None,
    tz: ZoneInfo | None = None,
) -> Report:
    """Everything a report shows, for the period and filters."""
    interval = interval or period.auto_interval()
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    if tz is None:
        tz = await asyncio.to_thread(ZoneInfo, period.timezone)  # reads a file
    since, until = period.since, period.until
    dialect = await metrics.dialect_of(session)

    hour = metrics.hour_bucket(dialect).label("hour")
    threshold = metrics.service_level_threshold().label("threshold")
    statement = offered_calls(
        [hour, Interaction.queue, threshold, *figure_columns()], since, until, filters
    ).group_by(hour, Interaction.queue, threshold)
    by_interval: dict[dt.datetime, Figures] = {
        start: Figures() for start in _every_interval(period, interval, tz)
    }
    by_queue: dict[tuple[str, int], Figures] = defaultdict(Figures)
    heatmap = [[0] * 24 for _ in range(7)]
    for row in (await session.execute(statement)).mappings():
        figures = Figures.from_row(row)
        start = metrics.bucket_time(row["hour"])
        key = _interval_start(start, interval, tz)
        by_interval[key] = by_interval.get(key, Figures()) + figures
        by_queue[(str(row["queue"]), int(row["threshold"]))] += figures
        local = start.astimezone(tz)
        heatmap[local.weekday()][local.hour] += figures.offered
    queues = [
        QueueFigures(name, seconds, figures)
        for (name, seconds), figures in sorted(by_queue.items())
    ]

    agents = await _agents(session, period, filters)
    return Report(
        period=period,
        filters=filters,
        interval=interval,
        totals=add_up(item.figures for item in queues),
        intervals=sorted(by_interval.items()),
        heatmap=heatmap,
        queues=queues,
        agents=agents,
        callers=await metrics.caller_figures(session, since, until, filters),
        segments=await _segments(session, period, filters),
        contacts_per_customer=await _contacts_per_customer(session, period, filters),
        routing=await _counts(session, period, filters, Interaction.route_rule, metrics.is_call()),
        dispositions=await _counts(
            session, period, filters, Interaction.disposition, metrics.answered()
        ),
    )


async def _agents(session: AsyncSession, period: Period, filters: Filters) -> list[AgentRow]:
    statement = (
        offered_calls(
            [Interaction.agent_id, User.display_name, *figure_columns()],
            period.since,
            period.until,
            filters,
        )
        .join(User, User.id == Interaction.agent_id)
        .where(metrics.answered())
        .group_by(Interaction.agent_id, User.display_name)
    )
    rows = (await session.execute(statement)).mappings().all()
    figures = {
        int(row["agent_id"]): (str(row["display_name"]), Figures.from_row(row)) for row in rows
    }
    times = await agent_time(session, period.since, period.until)
    if filters.agent_id is not None:
        times = {k: v for k, v in times.items() if k == filters.agent_id}
    names = (
        dict(
            (
                await session.execute(select(User.id, User.display_name).where(User.id.in_(times)))
            ).all()
        )
        if times
        else {}
    )
    result = []
    for agent_id in sorted(set(figures) | set(times)):
        name, own = figures.get(agent_id, (str(names.get(agent_id, agent_id)), Figures()))
        result.append(AgentRow(agent_id, name, own, times.get(agent_id, AgentTime())))
    return sorted(result, key=lambda row: (-row.figures.answered, row.name))


async def _segments(session: AsyncSession, period: Period, filters: Filters) -> list[Segment]:
    tier = func.coalesce(type_coerce(Customer.tier, String), "unknown").label("tier")
    columns: list[metrics.Expression] = [
        tier,
        func.count().label("calls"),
        func.count(distinct(Interaction.customer_id)),
    ]
    statement = offered_calls(columns, period.since, period.until, filters)
    if not filters.needs_customer:
        statement = statement.outerjoin(Customer, Customer.id == Interaction.customer_id)
    rows = await session.execute(statement.group_by(tier).order_by(tier))
    return [Segment(str(name), int(calls), int(customers)) for name, calls, customers in rows]


async def _contacts_per_customer(
    session: AsyncSession, period: Period, filters: Filters
) -> list[Count]:
    per_customer = (
        offered_calls(
            [Interaction.customer_id, func.count().label("calls")],
            period.since,
            period.until,
            filters,
        )
        .where(Interaction.customer_id.is_not(None))
        .group_by(Interaction.customer_id)
        .subquery()
    )
    bucket = case(
        *[
            (
                and_(per_customer.c.calls >= low, per_customer.c.calls <= high)
                if high is not None
                else per_customer.c.calls >= low,
                label,
            )
            for low, high, label in CONTACT_BUCKETS
        ],
    ).label("bucket")
    rows: dict[str, int] = {
        str(label): int(customers)
        for label, customers in await session.execute(select(bucket, func.count()).group_by(bucket))
    }
    return [Count(label, int(rows.get(label, 0))) for _low, _high, label in CONTACT_BUCKETS]


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
    if filters.needs_customer:
        statement = statement.join(Customer, Customer.id == Interaction.customer_id)
    return [Count(str(label), int(calls)) for label, calls in await session.execute(statement)]
