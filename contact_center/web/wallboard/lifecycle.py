"""The wallboard feed's place in the app: one per web process, built from the live state and
the database, fed by its bus listener, stopped on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import aiohttp_jinja2
from aiohttp import web

from contact_center.wallboard.feed import WallboardFeed
from contact_center.wallboard.figures import read_figures
from contact_center.web.keys import DATABASE, MESSAGING, SETTINGS, WALLBOARD

SERVICE_RESTART = 1012


async def wallboard_ctx(app: web.Application) -> AsyncIterator[None]:
    messaging = app[MESSAGING]
    feed = WallboardFeed(
        bus=messaging.bus,
        live=messaging.live,
        sessions=app[DATABASE].sessions,
        env=aiohttp_jinja2.get_env(app),
        timezone=app[SETTINGS].timezone,
        figures=functools.partial(read_figures, timezone=app[SETTINGS].timezone),
    )
    app[WALLBOARD] = feed
    task = asyncio.create_task(feed.run(), name="wallboard")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def close_boards(app: web.Application) -> None:
    """On shutdown: every wallboard's socket closes with 1012, so the page reconnects."""
    feed = app.get(WALLBOARD)
    if feed is not None:
        feed.stop_all(SERVICE_RESTART)
