"""The CRM tests' database (SQLite and PostgreSQL) with its known agents and customers."""

from tests.crm.conftest import database, seed

__all__ = ["database", "seed"]
