# ruff: noqa: RUF001  (look-alike digits and letters are the point here)
"""Whatever a caller sends as a number or a dialed number, routing answers and the database
is untouched: caller text only ever reaches SQL as a bound value."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contact_center.bus import MemoryLiveState
from contact_center.demo import load_demo_data
from contact_center.routing.service import Router
from contact_center.runtime import Database, open_database
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Customer, PhoneNumber

NASTY = [
    "'; DROP TABLE customers; --",
    "+48' OR '1'='1",
    "1; DELETE FROM phone_numbers",
    "+48601234567\x00' OR 1=1",
    "%",
    "_",
    "+48 60%",
    "\\",
    "\n\r",
    "<script>alert(1)</script>",
    "+٤٨٦٠١٢٣٤٥٦٧",  # Arabic-Indic digits
    "+48６０１２３４５６７",  # full-width digits
    "Олена",
    "+" + "9" * 5000,
    "",
]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    async with open_database(load_settings({}, database_url=url)) as db:
        await upgrade(db.engine)
        await load_demo_data(db.sessions, customers=30)
        yield db


async def counts(database: Database) -> tuple[int, int]:
    async with database.sessions() as session:
        customers = await session.scalar(select(func.count(Customer.id)))
        numbers = await session.scalar(select(func.count(PhoneNumber.id)))
    return int(customers or 0), int(numbers or 0)


async def test_garbage_numbers_route_somewhere_and_change_nothing(database: Database) -> None:
    router = Router(database.sessions, load_settings({}), MemoryLiveState())
    before = await counts(database)
    rng = random.Random(2026)
    alphabet = "0123456789+-() #*'\";%_\\/\x00\x7fżОé漢\u202e\ufeff"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    for text in NASTY + fuzz:
        decision = await router.route(text, dialed=text)
        assert decision.queue
        assert decision.rule
    assert await counts(database) == before
