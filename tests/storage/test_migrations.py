"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from contact_center.runtime import open_database
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrations_match_the_models(database_url: str) -> None:
    async with open_database(load_settings({}, database_url=database_url)) as db:
        await upgrade(db.engine)
        async with db.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    assert differences == []
