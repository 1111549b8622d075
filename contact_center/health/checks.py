"""Readiness checks, each bounded in time: the database, Redis (split mode), and for a
process that runs a bridge its AMI link and its journal's writer. Each gives "ok" or says
what is wrong; liveness never looks at them (a dependency that is down is not a reason to
restart us)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.bus import LiveState
from contact_center.errors import BusUnavailable

if TYPE_CHECKING:
    from contact_center.bridge import Bridge

CHECK_TIMEOUT = 2.0
"""Seconds a dependency may take to answer before it counts as unavailable."""
OK = "ok"

_cancelled: set[asyncio.Task[None]] = set()
"""Checks given up on, still cleaning up (kept until they end)."""


async def _within_check_timeout(check: Awaitable[None]) -> None:
    """Run `check`, but answer after CHECK_TIMEOUT whatever happens: a check that is given
    up on is cancelled, and its clean-up (closing a pooled connection to a server that does
    not answer takes as long again) goes on without the request waiting for it."""
    task = asyncio.ensure_future(check)
    done, _pending = await asyncio.wait({task}, timeout=CHECK_TIMEOUT)
    if task in done:
        task.result()
        return
    task.cancel()
    _cancelled.add(task)
    task.add_done_callback(_forget)
    raise TimeoutError


def _forget(task: asyncio.Task[None]) -> None:
    _cancelled.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: the check already said what was wrong


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def database(engine: AsyncEngine) -> str:
    try:
        await _within_check_timeout(_select_one(engine))
    except (TimeoutError, SQLAlchemyError, OSError) as err:
        return f"unavailable: {type(err).__name__}"
    return OK


async def redis(live: LiveState) -> str:
    try:
        await _within_check_timeout(live.ping())
    except (TimeoutError, BusUnavailable) as err:
        return f"unavailable: {type(err).__name__}"
    return OK


def ami(bridge: Bridge) -> str:
    return OK if bridge.ami.connected else "not connected"


def journal(bridge: Bridge) -> str:
    return OK if bridge.journal.writing else "stopped: calls in progress are not kept on disk"


async def readiness(
    engine: AsyncEngine, live: LiveState | None, bridge: Bridge | None
) -> dict[str, str]:
    """Every check that applies (`live` only in split mode, the last two with a bridge)."""
    checks: dict[str, str] = {}
    if live is None:
        checks["database"] = await database(engine)
    else:
        checks["database"], checks["redis"] = await asyncio.gather(database(engine), redis(live))
    if bridge is not None:
        checks["ami"] = ami(bridge)
        checks["journal"] = journal(bridge)
    return checks
