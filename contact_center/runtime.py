"""The process's resources, each an async context manager torn down in reverse.

The web app puts them in its `cleanup_ctx`; the stand-alone bridge enters them itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.driver_info import DriverInfo
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center import __version__
from contact_center.bridge import Bridge
from contact_center.bus import Bus, LiveState, MemoryBus, MemoryLiveState, Notifier
from contact_center.bus.commands import Commands, MemoryCommands, RedisCommands
from contact_center.bus.redis import RedisBus, RedisLiveState
from contact_center.health.metrics import Metrics
from contact_center.settings import Settings
from contact_center.storage.db import create_engine, make_sqlite_dir, session_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Messaging:
    bus: Bus
    live: LiveState
    notifier: Notifier
    commands: Commands
    """Requests to a node's bridge (it owns the AMI link) and their replies."""


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    await asyncio.to_thread(make_sqlite_dir, settings)
    engine = await asyncio.to_thread(create_engine, settings)  # it touches the file system
    try:
        yield Database(engine, session_factory(engine))
    finally:
        await engine.dispose()


def _driver_info() -> DriverInfo:
    return DriverInfo().add_upstream_driver("contact-center", __version__)


@contextlib.asynccontextmanager
async def open_messaging(settings: Settings) -> AsyncIterator[Messaging]:
    """Redis when CC_REDIS_URL is set (split mode), memory otherwise (embedded mode)."""
    if settings.redis_url is None:
        bus, live = MemoryBus(), MemoryLiveState()
        yield Messaging(bus, live, Notifier(bus, live), MemoryCommands())
        return
    # redis-py looks its own version up on disk for CLIENT SETINFO: once, off the loop
    driver = await asyncio.to_thread(_driver_info)
    redis = Redis.from_url(settings.redis_url, health_check_interval=10, driver_info=driver)
    try:
        redis_bus, redis_live = RedisBus(redis), RedisLiveState(redis)
        yield Messaging(
            redis_bus, redis_live, Notifier(redis_bus, redis_live), RedisCommands(redis)
        )
    finally:
        await redis.aclose()


@contextlib.asynccontextmanager
async def run_bridge(
    settings: Settings, database: Database, messaging: Messaging, metrics: Metrics | None = None
) -> AsyncIterator[Bridge]:
    """Run a bridge in a task owned by this context; a crash of it is logged, not lost."""
    bridge = Bridge(
        settings,
        database.sessions,
        messaging.notifier,
        messaging.live,
        messaging.commands,
        metrics,
    )
    await bridge.start()
    task = asyncio.create_task(bridge.run(), name=f"bridge-{settings.node}")
    task.add_done_callback(_report_crash)
    try:
        yield bridge
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("the bridge stopped", exc_info=task.exception())
