"""The report over the known data set (tests/analytics/dataset.py), worked out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from contact_center.analytics.metrics import Filters
from contact_center.analytics.reports import Count, Period, build_report
from tests.analytics.dataset import DAY, Known

UTC = ZoneInfo("UTC")
WARSAW = ZoneInfo("Europe/Warsaw")


async def test_report_of_the_day(known: Known) -> None:
    period = Period.of_days(DAY.date(), DAY.date(), UTC)
    report = await build_report(known.sessions, period)
    assert report.interval == "hour"
    assert len(report.intervals) == 24
    by_hour = {start.hour: figures.offered for start, figures in report.intervals}
    # offered: 8:50 (5), 9:00 (1), 9:10 (2), 9:20 (3), 10:00 (4), 10:30 (6), 11:00 (7),
    # 13:00 (11), 14:00 (8)
    assert {h: n for h, n in by_hour.items() if n} == {8: 1, 9: 3, 10: 2, 11: 1, 13: 1, 14: 1}
    assert report.totals.offered == 9
    assert report.totals.service_level == pytest.approx(3 / 8)
    assert sum(map(sum, report.heatmap)) == 9
    assert report.heatmap[0][9] == 3  # Monday 9:00
    assert [q.queue for q in report.queues] == ["ghost", "support", "vip"]
    assert report.callers.fcr == pytest.approx(2 / 5)

    agents = {row.name: row for row in report.agents}
    anna, olena = agents["Anna"], agents["Olena"]
    assert (anna.figures.answered, anna.figures.handle_seconds) == (3, 115 + 60 + 50)
    assert anna.time.logged_in_seconds == 8 * 3600
    assert anna.time.paused_by_reason == (("Lunch", 1800.0), ("Break", 600.0))
    assert anna.occupancy == pytest.approx(225 / (8 * 3600 - 2400))
    assert (olena.figures.answered, olena.figures.handle_seconds) == (2, 205 + 30)
    # still logged in: counted to the end of the day; the break from the day before: 20 min
    assert olena.time.logged_in_seconds == 24 * 3600
    assert olena.time.paused_by_reason == (("Break", 1200.0),)

    segments = {s.tier: (s.calls, s.customers) for s in report.segments}
    # standard: Ala 1, 4 and 7 (3 calls, her 7 was in vip but she is standard), Bogdan 5, 2
    assert segments == {"standard": (5, 2), "vip": (1, 1), "unknown": (3, 0)}
    assert report.contacts_per_customer[:3] == [Count("1", 1), Count("2", 1), Count("3-5", 1)]
    # routing rules over every call of the day (not the e-mail): 1, 2 known-customer; 6, 7 vip
    assert report.routing == [Count("", 7), Count("known-customer", 2), Count("vip", 2)]
    assert report.dispositions == [Count("", 2), Count("resolved", 2), Count("escalated", 1)]


async def test_local_days_and_filters(known: Known) -> None:
    # Warsaw is UTC+1 in November: the local day 2 November is 23:00 UTC on the 1st to 23:00
    period = Period.of_days(DAY.date(), DAY.date() + dt.timedelta(days=6), WARSAW)
    assert period.since == DAY - dt.timedelta(hours=1)
    report = await build_report(known.sessions, period, Filters(queue="vip"))
    assert report.interval == "day"
    # vip: calls 6 and 7 on Monday, call 14 on Wednesday
    assert [figures.offered for _start, figures in report.intervals] == [2, 0, 1, 0, 0, 0, 0]
    assert report.heatmap[0][11] == 1  # call 6 at 10:30 UTC is 11:30 in Warsaw


def test_period_checks() -> None:
    with pytest.raises(ValueError, match="ends before"):
        Period.of_days(DAY.date(), DAY.date() - dt.timedelta(days=1), UTC)
    with pytest.raises(ValueError, match="at most"):
        Period.of_days(DAY.date(), DAY.date() + dt.timedelta(days=800), UTC)
