"""Accounts without the web: hashing, the lockout over time, users, the demo password."""

from __future__ import annotations

import asyncio
import datetime as dt
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.accounts import Passwords, authenticate, change_password, create_user
from contact_center.accounts.demo import demo_password, read_or_create
from contact_center.accounts.login import LOCK_FOR, LOCK_WINDOW, locked_until
from contact_center.demo import load_demo_data
from contact_center.errors import (
    BadAccount,
    LoginLocked,
    SettingsError,
    UserExists,
    WeakPassword,
    WrongCredentials,
)
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade
from contact_center.storage.models import User
from tests.web.auth_helpers import cheap_passwords

Sessions = async_sessionmaker[AsyncSession]
T0 = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = await asyncio.to_thread(create_engine, Settings(database_url=database_url))
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


async def _add(sessions: Sessions, passwords: Passwords, username: str = "anna") -> User:
    return await create_user(
        sessions,
        passwords,
        username=username,
        password="anna's long password",
        role="agent",
        display_name="Anna Nowak",
    )


async def _stored_hash(sessions: Sessions, username: str = "anna") -> str | None:
    async with sessions() as session:
        return await session.scalar(select(User.password_hash).where(User.username == username))


def test_lock_after_five_failures_within_the_window() -> None:
    five = [T0 + 4 * MINUTE - i * MINUTE for i in range(5)]  # newest first
    assert locked_until(five, T0 + 5 * MINUTE) == five[0] + LOCK_FOR
    assert locked_until(five[:4], T0 + 5 * MINUTE) is None
    assert locked_until(five, five[0] + LOCK_FOR) is None  # the lock is over
    spread = [T0 + LOCK_WINDOW, T0 + 3 * MINUTE, T0 + 2 * MINUTE, T0 + MINUTE, T0]
    assert locked_until(spread, T0 + LOCK_WINDOW + MINUTE) is None


async def test_hashes_are_argon2id_with_the_production_parameters(sessions: Sessions) -> None:
    await _add(sessions, Passwords())
    stored = await _stored_hash(sessions)
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "anna's long password" not in stored


async def test_the_lock_ends_after_fifteen_minutes(sessions: Sessions) -> None:
    passwords = cheap_passwords()
    await _add(sessions, passwords)
    for i in range(5):
        with pytest.raises(WrongCredentials):
            await authenticate(sessions, passwords, "anna", "a wrong guess", now=T0 + i * MINUTE)
    with pytest.raises(LoginLocked) as locked:
        await authenticate(
            sessions, passwords, "anna", "anna's long password", now=T0 + 18 * MINUTE
        )
    assert locked.value.until == T0 + 4 * MINUTE + LOCK_FOR
    user = await authenticate(
        sessions, passwords, "anna", "anna's long password", now=T0 + 19 * MINUTE
    )
    assert user.username == "anna"


async def test_a_successful_login_resets_the_count(sessions: Sessions) -> None:
    passwords = cheap_passwords()
    await _add(sessions, passwords)
    for i in range(4):
        with pytest.raises(WrongCredentials):
            await authenticate(sessions, passwords, "anna", "a wrong guess", now=T0 + i * MINUTE)
    await authenticate(sessions, passwords, "anna", "anna's long password", now=T0 + 4 * MINUTE)
    with pytest.raises(WrongCredentials):  # the fifth failure since the success: not locked
        await authenticate(sessions, passwords, "anna", "a wrong guess", now=T0 + 5 * MINUTE)
    await authenticate(sessions, passwords, "anna", "anna's long password", now=T0 + 6 * MINUTE)


async def test_a_login_renews_an_outdated_hash(sessions: Sessions) -> None:
    await _add(sessions, cheap_passwords())
    old = await _stored_hash(sessions)
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=64, parallelism=1))
    await authenticate(sessions, stronger, "anna", "anna's long password")
    new = await _stored_hash(sessions)
    assert old is not None
    assert new is not None
    assert old.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert new.startswith("$argon2id$v=19$m=64,t=2,p=1$")
    await authenticate(sessions, stronger, "anna", "anna's long password")
    assert await _stored_hash(sessions) == new  # current parameters: left alone


async def test_users_are_checked(sessions: Sessions) -> None:
    passwords = cheap_passwords()
    await _add(sessions, passwords)
    with pytest.raises(UserExists):
        await _add(sessions, passwords)
    with pytest.raises(WeakPassword):
        await change_password(sessions, passwords, "anna", "too short")
    with pytest.raises(BadAccount):
        await create_user(
            sessions,
            passwords,
            username="Bad Name",
            password="a long enough one",
            role="agent",
            display_name="X",
        )
    with pytest.raises(BadAccount):
        await create_user(
            sessions,
            passwords,
            username="boss",
            password="a long enough one",
            role="root",
            display_name="X",
        )


def test_the_demo_password_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "demo-password"
    first = read_or_create(path)
    assert len(first) >= 10
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create(path) == first


async def test_demo_users_log_in_with_the_demo_password(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    engine = await asyncio.to_thread(create_engine, Settings(database_url=url))
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        passwords = cheap_passwords()
        await load_demo_data(sessions, customers=5, days_of_history=1)  # an older demo: no hash
        with pytest.raises(WrongCredentials):
            await authenticate(sessions, passwords, "admin", "")
        demo = await demo_password(load_settings({}, state_dir=tmp_path), passwords)
        await load_demo_data(
            sessions, customers=5, days_of_history=1, password_hash=demo.password_hash
        )
        for username in ("admin", "mzielinska", "anowak"):
            user = await authenticate(sessions, passwords, username, demo.password)
            assert user.username == username
        assert demo.password not in repr(demo)
    finally:
        await engine.dispose()


def test_session_settings() -> None:
    settings = load_settings({"CC_COOKIE_SECURE": "true", "CC_SESSION_IDLE_MINUTES": "30"})
    assert (settings.cookie_secure, settings.session_idle_minutes) == (True, 30)
    defaults = load_settings({})
    assert (defaults.cookie_secure, defaults.session_idle_minutes) == (False, 720)
    with pytest.raises(SettingsError, match="CC_SESSION_IDLE_MINUTES"):
        load_settings({"CC_SESSION_IDLE_MINUTES": "0"})
    with pytest.raises(SettingsError, match="CC_COOKIE_SECURE"):
        load_settings({"CC_COOKIE_SECURE": "maybe"})
