"""The stand-alone bridge's small HTTP server: `/health/live`, `/health/ready` and `/metrics`
(the web app's own views, see `contact_center/web/health.py`) on CC_BRIDGE_HTTP_HOST and
CC_BRIDGE_HTTP_PORT. `serve` needs none: its web app serves them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from contact_center.bridge import Bridge
from contact_center.runtime import Database, Messaging
from contact_center.web import health
from contact_center.web.keys import BRIDGE, DATABASE, MESSAGING, METRICS, SETTINGS

log = logging.getLogger(__name__)


def bridge_health_app(database: Database, messaging: Messaging, bridge: Bridge) -> web.Application:
    app = web.Application()
    app[SETTINGS] = bridge.settings
    app[DATABASE] = database
    app[MESSAGING] = messaging
    app[BRIDGE] = bridge
    app[METRICS] = bridge.metrics
    app.add_routes(health.routes)
    return app


@contextlib.asynccontextmanager
async def serve_bridge_health(
    database: Database, messaging: Messaging, bridge: Bridge
) -> AsyncIterator[int]:
    """Serve the bridge's health and metrics while in the context; gives the bound port."""
    settings = bridge.settings
    runner = web.AppRunner(
        bridge_health_app(database, messaging, bridge), access_log=None, handle_signals=False
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.bridge_http_host, settings.bridge_http_port)
        await site.start()
        port: int = runner.addresses[0][1]
        log.info("bridge health and metrics on http://%s:%s/", settings.bridge_http_host, port)
        yield port
    finally:
        await runner.cleanup()
