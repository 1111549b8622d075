"""The desk's background work in each web process: due task reminders, and notes waiting
for their call's interaction (`contact_center.desk.reminders.run`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from contact_center.desk import reminders
from contact_center.web.keys import DATABASE, MESSAGING


async def reminders_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(
        reminders.run(app[DATABASE].sessions, app[MESSAGING].bus), name="desk-reminders"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
