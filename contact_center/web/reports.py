"""The report pages for supervisors and admins: a period and filters in, figures, charts
and tables out; each table as CSV; the whole report as a printable page and as a PDF.

Everything is counted by contact_center.analytics (one definition of every metric)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select

from contact_center.analytics.metrics import Filters
from contact_center.analytics.pdf import PdfUnavailable, render_pdf
from contact_center.analytics.reports import INTERVALS, Period, Report, build_report
from contact_center.analytics.tables import TABLE_NAMES, Table, report_tables, to_csv
from contact_center.storage.models import TIER_VALUES, AgentCode, Queue, User
from contact_center.web.auth import require_role
from contact_center.web.auth.roles import refusal
from contact_center.web.keys import DATABASE, SETTINGS

routes = web.RouteTableDef()

ROLES = ("supervisor", "admin")
DEFAULT_DAYS = 7
TEXT = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class BadQuery(ValueError):
    """A report's query string that cannot be read; the message says which field."""


@dataclasses.dataclass(frozen=True, slots=True)
class ReportQuery:
    period: Period
    filters: Filters
    interval: str | None

    def params(self) -> dict[str, str]:
        """As query parameters again (for the CSV and PDF links)."""
        values = {
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "queue": self.filters.queue,
            "agent": str(self.filters.agent_id) if self.filters.agent_id else None,
            "tier": self.filters.tier,
            "hotline": self.filters.hotline,
            "disposition": self.filters.disposition,
            "interval": self.interval,
        }
        return {key: value for key, value in values.items() if value}


def _date(query: MultiMapping[str], key: str, default: dt.date) -> dt.date:
    text = query.get(key, "").strip()
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise BadQuery(f"{key}: a date as YYYY-MM-DD") from err


def _text(query: MultiMapping[str], key: str) -> str | None:
    text = query.get(key, "").strip()
    if not text:
        return None
    if not TEXT.match(text):
        raise BadQuery(f"{key}: one line of at most 64 characters")
    return text


def read_query(query: MultiMapping[str], tz: ZoneInfo, today: dt.date) -> ReportQuery:
    last = _date(query, "to", today)
    first = _date(query, "from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    try:
        period = Period.of_days(first, last, tz)
    except ValueError as err:
        raise BadQuery(str(err)) from err
    agent = _text(query, "agent")
    if agent is not None and not (agent.isdigit() and 0 < int(agent) < 2**31):
        raise BadQuery("agent: a user id")
    tier = _text(query, "tier")
    if tier is not None and tier not in TIER_VALUES:
        raise BadQuery(f"tier: one of {', '.join(TIER_VALUES)}")
    interval = _text(query, "interval")
    if interval == "auto":
        interval = None
    if interval is not None and interval not in INTERVALS:
        raise BadQuery(f"interval: one of {', '.join(INTERVALS)}")
    filters = Filters(
        queue=_text(query, "queue"),
        agent_id=int(agent) if agent is not None else None,
        tier=tier,
        hotline=_text(query, "hotline"),
        disposition=_text(query, "disposition"),
    )
    return ReportQuery(period, filters, interval)


async def _zone(request: web.Request) -> ZoneInfo:
    return await asyncio.to_thread(ZoneInfo, request.app[SETTINGS].timezone)


async def _report(request: web.Request) -> tuple[ReportQuery, Report, ZoneInfo]:
    tz = await _zone(request)
    try:
        wanted = read_query(request.query, tz, dt.datetime.now(tz).date())
    except BadQuery as err:
        raise web.HTTPBadRequest(text=f"bad report query: {err}") from err
    report = await build_report(
        request.app[DATABASE].sessions, wanted.period, wanted.filters, wanted.interval, tz
    )
    return wanted, report, tz


def chart_data(report: Report, tables: list[Table]) -> dict[str, Any]:
    """What reports.js draws: calls by interval (answered, abandoned, the rest) with the
    service level, and the weekday-by-hour heatmap."""
    [intervals] = [table for table in tables if table.name == "intervals"]
    labels = [str(row[0]) for row in intervals.rows]
    figures = [figures for _start, figures in report.intervals]
    return {
        "labels": labels,
        "answered": [f.answered for f in figures],
        "abandoned": [f.abandoned for f in figures],
        "other": [f.offered - f.answered - f.abandoned for f in figures],
        "service_level": [
            round(f.service_level * 100, 1) if f.service_level is not None else None
            for f in figures
        ],
        "heatmap": report.heatmap,
    }


async def _choices(request: web.Request) -> dict[str, Any]:
    async with request.app[DATABASE].sessions() as session:
        queues = list(await session.scalars(select(Queue.name).order_by(Queue.name)))
        agents = (
            await session.execute(
                select(User.id, User.display_name)
                .where(User.role == "agent")
                .order_by(User.display_name)
            )
        ).all()
        dispositions = list(
            await session.scalars(
                select(AgentCode.code)
                .where(AgentCode.kind == "disposition")
                .order_by(AgentCode.position, AgentCode.code)
            )
        )
    return {
        "queues": queues,
        "agents": [(agent_id, name) for agent_id, name in agents],
        "tiers": TIER_VALUES,
        "dispositions": dispositions,
        "intervals": INTERVALS,
    }


def _context(wanted: ReportQuery, report: Report, printing: bool) -> dict[str, Any]:
    tables = report_tables(report)
    params = wanted.params()
    return {
        "report": report,
        "wanted": wanted,
        "params": params,
        "tables": tables,
        "chart_json": json.dumps(chart_data(report, tables)),
        "printing": printing,
        "filters": [
            (label, value)
            for label, value in (
                ("Queue", report.filters.queue),
                ("Agent", report.filters.agent_id),
                ("Tier", report.filters.tier),
                ("Hotline", report.filters.hotline),
                ("Disposition", report.filters.disposition),
            )
            if value is not None
        ],
    }


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@routes.get("/reports", name="reports")
@require_role(*ROLES)
async def report_page(request: web.Request) -> web.StreamResponse:
    tz = await _zone(request)
    try:
        wanted = read_query(request.query, tz, dt.datetime.now(tz).date())
    except BadQuery as err:
        return refusal(request, 400, "bad_report_query", str(err))
    report = await build_report(
        request.app[DATABASE].sessions, wanted.period, wanted.filters, wanted.interval, tz
    )
    context = _context(wanted, report, printing=request.query.get("print") == "1")
    context |= await _choices(request)
    return _secured(aiohttp_jinja2.render_template("reports/report.html", request, context))


@routes.get("/reports/{table}.csv", name="report_csv")
@require_role(*ROLES)
async def report_csv(request: web.Request) -> web.StreamResponse:
    name = request.match_info["table"]
    if name not in TABLE_NAMES:
        raise web.HTTPNotFound()
    wanted, report, _tz = await _report(request)
    [table] = [table for table in report_tables(report) if table.name == name]
    filename = f"{name}-{wanted.period.first.isoformat()}-{wanted.period.last.isoformat()}.csv"
    return web.Response(
        text=to_csv(table),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.get("/reports/report.pdf", name="report_pdf")
@require_role(*ROLES)
async def report_pdf(request: web.Request) -> web.StreamResponse:
    wanted, report, _tz = await _report(request)
    context = _context(wanted, report, printing=True)
    html = aiohttp_jinja2.render_string("reports/report.html", request, context)
    try:
        pdf = await render_pdf(html)
    except PdfUnavailable as err:
        return refusal(request, 503, "pdf_unavailable", str(err))
    filename = f"report-{wanted.period.first.isoformat()}-{wanted.period.last.isoformat()}.pdf"
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
