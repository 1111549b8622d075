"""Fixtures for the whole suite: the blocking-call guard and the real Asterisk sandbox."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

from contact_center.sandbox import AsteriskSandbox
from contact_center.sandbox.root import build_root
from contact_center.settings import load_settings
from tests.pg import temporary_postgres_database


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any blocking call our package makes on the event loop."""
    with blockbuster_ctx("contact_center") as guard:
        # migrations run in a worker thread with a loop of their own: blocking is fine there
        for function in guard.functions.values():
            function.can_block_in("contact_center/storage/db.py", {"_migrate", "_upgrade"})
            # asyncpg looks for ~/.pgpass and client certificates as it connects (a stat)
            function.can_block_in("asyncpg/connect_utils.py", "_parse_connect_dsn_and_args")
        yield guard


SANDBOX_LOCK = "/tmp/contact-center-sandbox.lock"


@pytest.fixture(scope="session")
def sandbox_root() -> None:
    """The sandbox root, built once on a bare machine (debootstrap, about 80 s)."""
    if os.geteuid() != 0:
        pytest.skip("the Asterisk sandbox runs under chroot: run the suite as root")
    asyncio.run(build_root(load_settings({})))


@pytest.fixture(scope="module")
def sandbox(
    sandbox_root: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsteriskSandbox]:
    """One real Asterisk 22 per test module, always stopped after it.

    The sandbox binds fixed loopback ports, so test runs side by side on one machine take
    turns: each holds a machine-wide lock while its sandbox is up."""
    box = AsteriskSandbox(load_settings({}, state_dir=tmp_path_factory.mktemp("sandbox")))
    with open(SANDBOX_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            asyncio.run(box.up())
            yield box
        finally:
            asyncio.run(box.down())


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a throwaway database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
        return
    async with temporary_postgres_database() as url:
        yield url
