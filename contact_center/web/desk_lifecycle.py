"""The desk's resources in each web process: where pops are loaded from (`POPS`), and the
background work: due task reminders, and notes waiting for their call's interaction
(`contact_center.desk.reminders.run`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from contact_center.desk import reminders
from contact_center.desk.pop_sqlite import PopSource
from contact_center.web.keys import DATABASE, MESSAGING

POPS = web.AppKey("desk_pops", PopSource)


async def reminders_ctx(app: web.Application) -> AsyncIterator[None]:
    app[POPS] = await PopSource.open(app[DATABASE].sessions)
    task = asyncio.create_task(
        reminders.run(app[DATABASE].sessions, app[MESSAGING].bus), name="desk-reminders"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app[POPS].close()
