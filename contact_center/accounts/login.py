"""Checking a username and password, with a lockout after repeated failures.

Failures are counted per username in the database (known usernames or not, so the lockout
tells nothing about which accounts exist), which works across several web processes."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.accounts.passwords import MAX_LENGTH, Passwords
from contact_center.errors import LoginLocked, WrongCredentials
from contact_center.storage.models import LoginFailure, User, utcnow

log = logging.getLogger(__name__)

LOCK_AFTER = 5
"""Failures within LOCK_WINDOW that lock a username ..."""
LOCK_WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
"""... for this long after the last of them. Refused attempts are not counted."""
FORGET_AFTER = LOCK_WINDOW + LOCK_FOR


def locked_until(recent: Sequence[dt.datetime], now: dt.datetime) -> dt.datetime | None:
    """When the lock on a username ends, given its latest failures (newest first), or None.

    Locked when the latest LOCK_AFTER failures fall within LOCK_WINDOW, until LOCK_FOR after
    the newest of them; after that the username gets LOCK_AFTER fresh attempts."""
    if len(recent) < LOCK_AFTER:
        return None
    newest, oldest = recent[0], recent[LOCK_AFTER - 1]
    if newest - oldest >= LOCK_WINDOW:
        return None
    until = newest + LOCK_FOR
    return until if now < until else None


def _key(username: str) -> str:
    return username[:64]


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    username: str,
    password: str,
    *,
    now: dt.datetime | None = None,
) -> User:
    """The active user with this username and password, else WrongCredentials (the same
    error, after the same work, whether the user exists or not), or LoginLocked."""
    now = now or utcnow()
    async with sessions() as session, session.begin():
        await session.execute(
            delete(LoginFailure).where(LoginFailure.failed_at < now - FORGET_AFTER)
        )
        recent = (
            await session.scalars(
                select(LoginFailure.failed_at)
                .where(LoginFailure.username == _key(username))
                .order_by(LoginFailure.failed_at.desc())
                .limit(LOCK_AFTER)
            )
        ).all()
        until = locked_until(recent, now)
        if until is not None:
            log.warning("login refused for %r: locked until %s", _key(username), until)
            raise LoginLocked(_key(username), until)
        user = await session.scalar(select(User).where(User.username == username))

    usable = user is not None and user.active and len(password) <= MAX_LENGTH
    verified = await passwords.verify(user.password_hash if usable and user else None, password)

    failed = user is None or not verified.ok
    async with sessions() as session, session.begin():
        if failed:
            session.add(LoginFailure(username=_key(username), failed_at=now))
        else:
            await session.execute(
                delete(LoginFailure).where(LoginFailure.username == _key(username))
            )
        if user is not None and verified.new_hash is not None:
            await session.execute(
                update(User).where(User.id == user.id).values(password_hash=verified.new_hash)
            )
    if failed or user is None:
        log.info("failed login for %r", _key(username))
        raise WrongCredentials("wrong username or password")
    if verified.new_hash is not None:
        user.password_hash = verified.new_hash
        log.info("password hash of %s renewed with the current parameters", username)
    return user
