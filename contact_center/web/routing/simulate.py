"""The routing simulator: "what would happen if this number called now (or then)?"

It takes the same path as a real call (the process's Router gathers the facts, `decide`
decides), against the stored rulebook or a pasted draft that is not stored."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from contact_center.errors import RuleError
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.rules import Rulebook, decide
from contact_center.web.auth import require_role
from contact_center.web.i18n import translator
from contact_center.web.keys import ROUTER
from contact_center.web.routing.common import ROLES, build
from contact_center.web.routing.explain import explain

routes = web.RouteTableDef()

SIMULATE = "/routing/simulate"
FIELDS = ("number", "dialed", "at", "draft")


def _when(text: str, book: Rulebook) -> dt.datetime | None:
    """`at` as typed (YYYY-MM-DDTHH:MM, in the center's time zone); None for now."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise RuleError(f"at: {text!r} is not a date and time as YYYY-MM-DDTHH:MM") from err
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=book.tz)


async def _draft(request: web.Request, text: str) -> Rulebook:
    try:
        document = await asyncio.to_thread(load_yaml, text)  # resolves time zones: disk
    except RuleError as err:
        raise RuleError(f"draft rulebook: {err}") from err
    return await build(request, document)


@routes.get(SIMULATE, name="routing_simulate")
@routes.post(SIMULATE)
@require_role(*ROLES)
async def simulate(request: web.Request) -> web.StreamResponse:
    """GET for a number and a time; POST (with its CSRF token) to paste a draft rulebook,
    too long for a URL. Neither stores anything."""
    params = request.query if request.method == "GET" else await request.post()
    typed = {
        key: value.strip() if isinstance(value := params.get(key, ""), str) else ""
        for key in FIELDS
    }
    context: dict[str, Any] = {**typed, "error": "", "result": None}
    if "number" not in params:
        return aiohttp_jinja2.render_template("routing/simulate.html", request, context)
    router = request.app[ROUTER]
    try:
        book = await _draft(request, typed["draft"]) if typed["draft"] else await router.rulebook()
        now = _when(typed["at"], book)
    except RuleError as err:
        context["error"] = str(err)
        return aiohttp_jinja2.render_template("routing/simulate.html", request, context, status=400)
    facts = await router.facts(book, typed["number"], dialed=typed["dialed"], now=now)
    context["result"] = explain(book, facts, decide(book, facts), translator(request).gettext)
    context["used_draft"] = bool(typed["draft"])
    return aiohttp_jinja2.render_template("routing/simulate.html", request, context)
