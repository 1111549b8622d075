"""What the benchmarks share: a throwaway PostgreSQL database, percentiles, the schema's head."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Sequence

import asyncpg
from alembic.script import ScriptDirectory

from contact_center.storage.db import alembic_config

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A throwaway database with a random name, always dropped (``WITH (FORCE)``)."""
    name = f"cc_bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield name
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(share * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(latencies_us: Sequence[float]) -> str:
    values = sorted(v / 1000 for v in latencies_us)
    return (
        f"p50_ms={percentile(values, 0.50):.2f} p90_ms={percentile(values, 0.90):.2f} "
        f"p99_ms={percentile(values, 0.99):.2f} max_ms={values[-1] if values else float('nan'):.2f}"
    )


def schema_head() -> str:
    """The head revision of our migrations (reads the scripts: run it in a thread)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or "none"
