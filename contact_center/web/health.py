"""Liveness and readiness, for the proxy, the orchestrator and the tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from contact_center.errors import BusUnavailable
from contact_center.web.keys import DATABASE, MESSAGING, SETTINGS

NODE_STALE_SECONDS = 10.0
CHECK_TIMEOUT = 2.0

routes = web.RouteTableDef()


@routes.get("/health/live")
async def live(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def node_states(request: web.Request) -> list[dict[str, Any]]:
    now = time.time()
    return [
        {
            "node": status.node,
            "ami_connected": status.ami_connected and now - status.seen_at < NODE_STALE_SECONDS,
            "active_calls": status.active_calls,
            "seen_seconds_ago": round(now - status.seen_at, 1),
        }
        for status in await request.app[MESSAGING].live.nodes()
    ]


@routes.get("/health/ready")
async def ready(request: web.Request) -> web.Response:
    """Ready when the database (and Redis, in split mode) answer; nodes are reported."""
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), request.app[DATABASE].engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (TimeoutError, SQLAlchemyError, OSError) as err:
        checks["database"] = f"unavailable: {type(err).__name__}"
    if request.app[SETTINGS].redis_url is not None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await request.app[MESSAGING].live.ping()
            checks["redis"] = "ok"
        except (TimeoutError, BusUnavailable) as err:
            checks["redis"] = f"unavailable: {type(err).__name__}"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            checks["nodes"] = await node_states(request)
    except (TimeoutError, BusUnavailable):
        checks["nodes"] = []
    ok = all(value == "ok" for key, value in checks.items() if key != "nodes")
    return web.json_response({"ready": ok, **checks}, status=200 if ok else 503)
