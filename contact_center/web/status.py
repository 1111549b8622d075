"""The system status page: which nodes are linked, nothing about customers."""

from __future__ import annotations

import time
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from contact_center import __version__
from contact_center.errors import BusUnavailable
from contact_center.web.auth import require_role
from contact_center.web.health import node_states
from contact_center.web.keys import SETTINGS

routes = web.RouteTableDef()


@routes.get("/", name="status")
@require_role()
@aiohttp_jinja2.template("status.html")
async def status_page(request: web.Request) -> dict[str, Any]:
    try:
        nodes = await node_states(request)
    except BusUnavailable:
        nodes = []
    settings = request.app[SETTINGS]
    return {
        "version": __version__,
        "mode": "split" if settings.redis_url else "embedded",
        "nodes": nodes,
        "now": time.time(),
    }
