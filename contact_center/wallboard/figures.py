"""Today's figures for the board, counted by `contact_center.analytics.metrics` (the one
definition of every metric): per queue with `queue_figures`, and with the same columns
grouped by agent (calls handled today, AHT) and by hour (the chart)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.analytics import metrics
from contact_center.storage.models import Interaction
from contact_center.wallboard.board import Today
from contact_center.wallboard.sources import Figures
from contact_center.wallboard.worklist import abandoned_callers


def today_of(figures: metrics.Figures) -> Today:
    return Today(
        offered=figures.offered,
        answered=figures.answered,
        abandoned=figures.abandoned,
        abandon_rate=figures.abandon_rate,
        service_level=figures.service_level,
        asa=figures.asa,
        aht=figures.aht,
    )


async def read_figures(
    session: AsyncSession, since: dt.datetime, until: dt.datetime, timezone: str = "UTC"
) -> Figures:
    """The figures of `[since, until)`: per queue, per agent, all queues, per hour (labelled
    in `timezone`), and the abandoned-call worklist of the same period."""
    per_queue = await metrics.queue_figures(session, since, until)
    queues = {item.queue: today_of(item.figures) for item in per_queue}
    totals = today_of(metrics.add_up(item.figures for item in per_queue))

    columns = metrics.figure_columns()
    by_agent = (
        metrics.offered_calls([Interaction.agent_id, *columns], since, until)
        .where(Interaction.agent_id.is_not(None))
        .group_by(Interaction.agent_id)
    )
    agents = {
        int(row["agent_id"]): today_of(metrics.Figures.from_row(row))
        for row in (await session.execute(by_agent)).mappings()
    }

    bucket = metrics.hour_bucket(await metrics.dialect_of(session)).label("bucket")
    by_hour = metrics.offered_calls([bucket, *columns], since, until).group_by(bucket)
    zone = ZoneInfo(timezone)
    hours: dict[dt.datetime, metrics.Figures] = {}
    for row in (await session.execute(by_hour)).mappings():
        start = metrics.bucket_time(row["bucket"])
        hours[start] = hours.get(start, metrics.Figures()) + metrics.Figures.from_row(row)
    intervals = tuple(
        (start.astimezone(zone).strftime("%H:%M"), item.offered, item.answered)
        for start, item in sorted(hours.items())
    )
    abandoned = await abandoned_callers(session, since, until)
    return Figures(queues, agents, totals, intervals, abandoned)
