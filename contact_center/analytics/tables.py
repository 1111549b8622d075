"""A report as tables: the same rows for the page, the printout and the CSV files.

Cells are plain values (text, counts, seconds, ratios); each column has a kind that says how
the page formats it (a ratio as a percentage, seconds as h:mm:ss) and CSV writes it raw."""

from __future__ import annotations

import csv
import dataclasses
import io

from contact_center.analytics.metrics import Figures
from contact_center.analytics.reports import Report

Cell = str | int | float | None

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: str = "count"
    """text, count, seconds or ratio"""


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    name: str
    """Its CSV file's name (``<name>.csv``)."""
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _text(key: str, title: str) -> Column:
    return Column(key, title, "text")


def _seconds(key: str, title: str) -> Column:
    return Column(key, title, "seconds")


def _ratio(key: str, title: str) -> Column:
    return Column(key, title, "ratio")


FIGURE_COLUMNS = (
    Column("offered", "Offered"),
    Column("answered", "Answered"),
    Column("abandoned", "Abandoned"),
    Column("short_abandoned", "Short abandons"),
    Column("exited", "Exited"),
    _ratio("service_level", "Service level"),
    _ratio("abandon_rate", "Abandon rate"),
    _seconds("asa", "ASA"),
    _seconds("longest_wait", "Longest wait"),
    _seconds("aht", "AHT"),
    _seconds("average_talk", "Avg talk"),
    _seconds("average_hold", "Avg hold"),
    _seconds("average_wrapup", "Avg wrap-up"),
    Column("transferred", "Transferred"),
)


def _figures(figures: Figures) -> tuple[Cell, ...]:
    return (
        figures.offered,
        figures.answered,
        figures.abandoned,
        figures.short_abandoned,
        figures.exited,
        figures.service_level,
        figures.abandon_rate,
        figures.asa,
        figures.longest_wait_seconds if figures.offered else None,
        figures.aht,
        figures.average_talk,
        figures.average_hold,
        figures.average_wrapup,
        figures.transferred,
    )


def summary_table(report: Report) -> Table:
    totals, callers = report.totals, report.callers
    rows: list[tuple[Cell, ...]] = [
        (column.title, value, column.kind)
        for column, value in zip(FIGURE_COLUMNS, _figures(totals), strict=True)
    ]
    rows.insert(5, ("Unknown end", totals.unknown, "count"))
    rows += [
        ("First-contact resolution", callers.fcr, "ratio"),
        ("Callers", callers.callers, "count"),
        ("Repeat callers", callers.repeat_callers, "count"),
        ("Repeat caller share", callers.repeat_rate, "ratio"),
    ]
    return Table(
        "summary",
        "Summary",
        (_text("metric", "Metric"), Column("value", "Value", "mixed"), _text("kind", "Kind")),
        tuple(rows),
    )


def report_tables(report: Report) -> list[Table]:
    """Every table of the report, in the order the page shows them."""
    interval_title = {"hour": "Hour", "day": "Day", "week": "Week of"}[report.interval]
    stamp = "%Y-%m-%d %H:%M" if report.interval == "hour" else "%Y-%m-%d"
    tables = [
        summary_table(report),
        Table(
            "intervals",
            f"Calls by {report.interval}",
            (_text("start", interval_title), *FIGURE_COLUMNS),
            tuple((start.strftime(stamp), *_figures(f)) for start, f in report.intervals),
        ),
        Table(
            "queues",
            "Queues",
            (_text("queue", "Queue"), _seconds("threshold", "SL threshold"), *FIGURE_COLUMNS),
            tuple((q.queue, q.service_level_seconds, *_figures(q.figures)) for q in report.queues),
        ),
        Table(
            "agents",
            "Agents",
            (
                _text("agent", "Agent"),
                Column("answered", "Answered"),
                _seconds("talk", "Talk"),
                _seconds("hold", "Hold"),
                _seconds("wrapup", "Wrap-up"),
                _seconds("aht", "AHT"),
                Column("transferred", "Transferred"),
                _seconds("logged_in", "Logged in"),
                _seconds("paused", "Paused"),
                _ratio("occupancy", "Occupancy"),
            ),
            tuple(
                (
                    a.name,
                    a.figures.answered,
                    a.figures.talk_seconds,
                    a.figures.hold_seconds,
                    a.figures.wrapup_seconds,
                    a.figures.aht,
                    a.figures.transferred,
                    a.time.logged_in_seconds,
                    a.time.paused_seconds,
                    a.occupancy,
                )
                for a in report.agents
            ),
        ),
        Table(
            "pauses",
            "Pause time by reason",
            (_text("agent", "Agent"), _text("reason", "Reason"), _seconds("paused", "Paused")),
            tuple(
                (a.name, reason or "(none)", seconds)
                for a in report.agents
                for reason, seconds in a.time.paused_by_reason
            ),
        ),
        Table(
            "heatmap",
            "Offered calls by weekday and hour",
            (_text("weekday", "Weekday"), *(Column(f"h{h:02d}", f"{h:02d}") for h in range(24))),
            tuple((WEEKDAYS[day], *report.heatmap[day]) for day in range(7)),
        ),
        Table(
            "segments",
            "Customers by segment",
            (
                _text("tier", "Segment"),
                Column("calls", "Calls"),
                Column("customers", "Customers"),
                Column("per_customer", "Calls per customer", "decimal"),
            ),
            tuple((s.tier, s.calls, s.customers, s.calls_per_customer) for s in report.segments),
        ),
        Table(
            "contacts",
            "Contacts per customer",
            (_text("contacts", "Calls in the period"), Column("customers", "Customers")),
            tuple((c.label, c.calls) for c in report.contacts_per_customer),
        ),
        Table(
            "routing",
            "Routing rules",
            (_text("rule", "Rule"), Column("calls", "Calls")),
            tuple((c.label or "(default queue)", c.calls) for c in report.routing),
        ),
        Table(
            "dispositions",
            "Top dispositions (answered calls)",
            (_text("disposition", "Disposition"), Column("calls", "Calls")),
            tuple((c.label or "(none)", c.calls) for c in report.dispositions),
        ),
    ]
    return tables


TABLE_NAMES = (
    "summary",
    "intervals",
    "queues",
    "agents",
    "pauses",
    "heatmap",
    "segments",
    "contacts",
    "routing",
    "dispositions",
)


def _csv_cell(value: Cell) -> str:
    """Numbers as they are; text that a spreadsheet would take for a formula is quoted
    with a leading apostrophe (names and codes are data, never formulas)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(table: Table) -> str:
    """The table as CSV (RFC 4180, CRLF line ends), a header row of column keys first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return out.getvalue()
