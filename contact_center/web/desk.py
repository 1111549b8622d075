"""The agent desk: the page an agent keeps open all day. It connects to the push channel
and shows the call on the agent's phone as a card."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from contact_center.bus import AgentCall
from contact_center.crm import due_tasks
from contact_center.errors import BusUnavailable
from contact_center.web import agents_api
from contact_center.web.auth import current_user, require_role
from contact_center.web.desk_lifecycle import POPS
from contact_center.web.keys import DATABASE, MESSAGING

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

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
"""The desk shows what callers chose as their names: even if escaping ever failed, the
browser would run no script and load nothing from elsewhere."""


@routes.get("/agent", name="desk")
@require_role()
async def desk_page(request: web.Request) -> web.StreamResponse:
    identity = current_user(request)
    call: AgentCall | None = None
    if identity.interface:
        try:
            call = await request.app[MESSAGING].live.agent_call(identity.interface)
        except (BusUnavailable, ValueError) as err:
            log.warning("desk: no current call for %s: %s", identity.interface, err)
    context: dict[str, Any] = {"call": call, "interface": identity.interface, "now": time.time()}
    context["pop"] = None if call is None else await request.app[POPS].load(call, identity.user_id)
    context["form"] = {}
    async with request.app[DATABASE].sessions() as session:
        context["tasks"] = await due_tasks(session, identity.user_id, dt.datetime.now(dt.UTC))
    context |= await agents_api.desk_context(request)
    response = aiohttp_jinja2.render_template("agent/desk.html", request, context)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
