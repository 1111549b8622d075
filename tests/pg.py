"""A throwaway PostgreSQL database for tests: created with a random name, always dropped."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"


@asynccontextmanager
async def temporary_postgres_database(
    host: str = PG_HOST, port: int = PG_PORT, user: str = PG_USER
) -> AsyncIterator[str]:
    """Create a fresh, empty database and yield its ``postgresql+asyncpg://`` URL.

    The database is dropped on the way out even if the body failed; connections left open
    by the body are cut (``WITH (FORCE)``) so a forgotten engine cannot keep it alive."""
    name = f"cc_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(host=host, port=port, user=user, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://{user}@{host}:{port}/{name}"
    finally:
        admin = await asyncpg.connect(host=host, port=port, user=user, database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
