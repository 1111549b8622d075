"""`/wallboard/alerts`: each queue's amber and red thresholds (supervisors and admins). A
saved queue is read again by every web process's wallboard at once."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from contact_center.bus import BusMessage
from contact_center.errors import AgentCommandInvalid, BusUnavailable
from contact_center.wallboard import alerts
from contact_center.wallboard.actions import REFRESH
from contact_center.web.auth import current_user, require_role
from contact_center.web.desk import CONTENT_SECURITY_POLICY
from contact_center.web.keys import DATABASE, MESSAGING

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

TEMPLATE = "wallboard/alerts.html"


async def _page(request: web.Request, status: int = 200, **more: Any) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        queues = await alerts.list_alerts(session)
    context = {"queues": queues, "fields": alerts.FIELDS, "saved": None, "error": None, **more}
    response = aiohttp_jinja2.render_template(TEMPLATE, request, context, status=status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@routes.get("/wallboard/alerts", name="wallboard_alerts")
@require_role("supervisor", "admin")
async def alerts_page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


@routes.post("/wallboard/alerts")
@require_role("supervisor", "admin")
async def alerts_save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    queue = fields.get("queue", "")
    try:
        values = alerts.parse(fields)
        async with request.app[DATABASE].sessions() as session, session.begin():
            await alerts.save_alerts(session, queue, values)
    except AgentCommandInvalid as err:
        return await _page(request, 400, error=str(err))
    log.info("alert thresholds of %s set by %s", queue, current_user(request).username)
    try:
        await request.app[MESSAGING].bus.publish(BusMessage(REFRESH, {}))
    except BusUnavailable as err:
        log.warning("cannot tell the wallboards to read again: %s", err)
    return await _page(request, saved=queue)
