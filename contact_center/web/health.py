"""Liveness, readiness and metrics, for the proxy, the orchestrator, Prometheus and the tests.

The same views serve the web app and the stand-alone bridge's own small server
(`contact_center/health/server.py`):

- `/health/live`: the process answers (its event loop turns) and, with a bridge, the event
  consumer is not stuck; never looks at a dependency.
- `/health/ready`: the database, Redis (split mode), and with a bridge its AMI link and its
  journal's writer (see `contact_center/health/checks.py`); 503 when one is not ok. Each
  node's AMI link, as its bridge last reported it, is listed too (not a condition).
- `/metrics`: the Prometheus text format; with `CC_METRICS_TOKEN` set it needs
  `Authorization: Bearer <token>`, without it only loopback peers get it (not a request a
  proxy on this host forwarded, which says so in a Forwarded or X-Forwarded-For header).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import time
from typing import Any

from aiohttp import web
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from contact_center.errors import BusUnavailable
from contact_center.health import checks
from contact_center.health.metrics import CONTENT_TYPE, Source
from contact_center.web.auth.roles import Handler
from contact_center.web.keys import (
    BRIDGE,
    DATABASE,
    MESSAGING,
    METRICS,
    PUSH_HUB,
    SETTINGS,
    WALLBOARD,
)

NODE_STALE_SECONDS = 10.0
STALLED_SECONDS = 10.0
"""A bridge whose consumer took no waiting event for this long is not alive."""

routes = web.RouteTableDef()


@routes.get("/health/live")
async def live(request: web.Request) -> web.Response:
    bridge = request.app.get(BRIDGE)
    if bridge is not None and (stalled := bridge.stalled_seconds) > STALLED_SECONDS:
        body = {"status": "stuck", "events_waiting_seconds": round(stalled, 1)}
        return web.json_response(body, status=503)
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
    app = request.app
    split = app[SETTINGS].redis_url is not None
    result: dict[str, Any] = await checks.readiness(
        app[DATABASE].engine, app[MESSAGING].live if split else None, app.get(BRIDGE)
    )
    ok = all(value == checks.OK for value in result.values())
    result["nodes"] = []
    if result.get("redis", checks.OK) == checks.OK:  # a Redis that failed is not asked again
        with contextlib.suppress(TimeoutError, BusUnavailable):  # listed when known
            async with asyncio.timeout(checks.CHECK_TIMEOUT):
                result["nodes"] = await node_states(request)
    return web.json_response({"ready": ok, **result}, status=200 if ok else 503)


FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
"""A request a proxy passed on is not the local peer it seems to be."""


def _loopback(request: web.Request) -> bool:
    if any(name in request.headers for name in FORWARDED):
        return False
    try:
        return request.remote is not None and ipaddress.ip_address(request.remote).is_loopback
    except ValueError:  # a unix socket's peer
        return False


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics_token
    if token is None:
        if not _loopback(request):
            return web.json_response(
                {"error": "forbidden", "message": "Metrics: loopback only, or set a token."},
                status=403,
            )
    else:
        sent = request.headers.get("Authorization", "")
        expected = f"Bearer {token.reveal()}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            return web.json_response(
                {"error": "unauthorized", "message": "Metrics need the bearer token."},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    body = await request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


@web.middleware
async def count_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the requests answered with a server error (a readiness 503 is not one)."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 500:
            _count(request)
        raise
    except Exception:
        _count(request)
        raise
    if response.status >= 500:
        _count(request)
    return response


def _count(request: web.Request) -> None:
    if not request.path.startswith("/health/"):
        request.app[METRICS].http_errors.inc()


def web_metrics(app: web.Application) -> Source:
    """The web process's own figures: its websocket clients, by channel (the agents' push
    channel, the wallboards)."""

    async def families() -> list[Metric]:
        hub, board = app.get(PUSH_HUB), app.get(WALLBOARD)
        clients = GaugeMetricFamily(
            "cc_websocket_clients",
            "Websocket clients connected to this web process.",
            labels=["channel"],
        )
        clients.add_metric(["push"], len(hub.clients()) if hub is not None else 0)
        clients.add_metric(["wallboard"], len(board.clients) if board is not None else 0)
        return [clients]

    return families
