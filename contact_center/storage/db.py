"""The database engine and sessions, and schema migrations with Alembic."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from contact_center.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


SQLITE_LOWER = "cc_lower"
"""A Unicode ``lower()`` on SQLite connections: SQLite's own folds ASCII letters only, so
``lower('ŻANETA')`` gives 'Żaneta' there where PostgreSQL gives 'żaneta'."""


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function(SQLITE_LOWER, 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_sqlite_dir(settings: Settings) -> None:
    """Create the folder of the SQLite file (blocking: run it in a thread)."""
    if settings.sqlite and ":///" in settings.database_url:
        path = settings.database_url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def create_engine(settings: Settings) -> AsyncEngine:
    """One engine per process; SQLite gets WAL, foreign keys and a busy timeout."""
    if settings.sqlite:
        engine = create_async_engine(settings.database_url)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(settings.database_url, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def upgrade_in_thread(url: str, revision: str) -> None:
    """The whole migration, in a worker thread with an event loop of its own."""

    async def _migrate() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_upgrade, revision)
        finally:
            await engine.dispose()

    asyncio.run(_migrate())


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema of `engine`'s database to `revision` (Alembic).

    Alembic reads its scripts from disk, so it runs in a worker thread with a loop of its
    own, never blocking the caller's event loop."""
    url = engine.url.render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade_in_thread, url, revision)
    log.info("database schema at %s", revision)
