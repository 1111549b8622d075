"""The push hub's place in the app: created with its bus listener, emptied on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from contact_center.web.keys import MESSAGING, PUSH_HUB
from contact_center.web.push.hub import SERVICE_RESTART, PushHub, listen


async def push_ctx(app: web.Application) -> AsyncIterator[None]:
    """The hub and its one bus listener, for the life of the app."""
    hub = PushHub()
    app[PUSH_HUB] = hub
    listener = asyncio.create_task(listen(app[MESSAGING].bus, hub), name="push-listener")
    try:
        yield
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def close_sockets(app: web.Application) -> None:
    """On shutdown (before the cleanup contexts): every socket is closed with 1012 (service
    restart), so its page reconnects to the next process."""
    hub = app.get(PUSH_HUB)
    if hub is not None:
        hub.stop_all(SERVICE_RESTART, "server restart")
