"""Queues' opening hours, holidays and after-hours path, one form per queue. Checked by the
same parser the router uses; stored with the current rules in one transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from contact_center.errors import RuleError
from contact_center.routing.rulebook import QueueSettings, RulebookDocument
from contact_center.routing.rules import AFTER_HOURS_PATHS
from contact_center.routing.schedule import DAYS
from contact_center.storage.models import Queue
from contact_center.web.auth import require_role
from contact_center.web.auth.roles import refusal
from contact_center.web.i18n import translator
from contact_center.web.keys import DATABASE, SETTINGS
from contact_center.web.routing.common import (
    APPLIES,
    ROLES,
    Change,
    current_document,
    replace_rulebook,
    see_other,
)
from contact_center.web.routing.describe import describe_hours
from contact_center.web.routing.forms import QueueForm

routes = web.RouteTableDef()

QUEUES = "/routing/queues"


async def _render(
    request: web.Request, typed: QueueForm | None = None, error: str = "", status: int = 200
) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        document, is_default = await current_document(session)
        titles = {q.name: q.display_name for q in await session.scalars(select(Queue))}
    names = sorted(set(titles) | set(document.queues))
    rows = []
    for name in names:
        settings = document.queues.get(name, QueueSettings())
        form = QueueForm.from_settings(name, settings)
        mine = typed is not None and typed.name == name
        rows.append(
            {
                "title": titles.get(name, name),
                "form": typed if mine else form,
                "error": error if mine else "",
                "summary": describe_hours(dict(settings.hours), translator(request).gettext),
            }
        )
    context: dict[str, Any] = {
        "rows": rows,
        "is_default": is_default,
        "days": DAYS,
        "paths": AFTER_HOURS_PATHS,
        "center_timezone": request.app[SETTINGS].timezone,
        "applies": APPLIES,
        "saved": request.query.get("saved", ""),
    }
    return aiohttp_jinja2.render_template("routing/queues.html", request, context, status=status)


@routes.get(QUEUES, name="routing_queues")
@require_role(*ROLES)
async def queues_page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


def _with_queue(name: str, settings: QueueSettings) -> Change:
    def change(document: RulebookDocument) -> RulebookDocument:
        return RulebookDocument(rules=document.rules, queues={**document.queues, name: settings})

    return change


@routes.post(QUEUES)
@require_role(*ROLES)
async def save_queue(request: web.Request) -> web.StreamResponse:
    form = QueueForm.from_post(await request.post())
    async with request.app[DATABASE].sessions() as session:
        document, _default = await current_document(session)
        known = set(await session.scalars(select(Queue.name))) | set(document.queues)
    if form.name not in known:
        return refusal(request, 404, "no_such_queue", "There is no queue with this name.")
    try:
        problem = form.problem()
        if problem:
            raise RuleError(problem)
        settings = form.to_settings()
        center = request.app[SETTINGS].timezone
        # resolving the time zone reads zoneinfo's files: in a thread
        await asyncio.to_thread(settings.policy, f"queues.{form.name}", center)
        await replace_rulebook(request, _with_queue(form.name, settings))
    except RuleError as err:
        return await _render(request, form, str(err), 400)
    return see_other(f"{QUEUES}?saved=1")
