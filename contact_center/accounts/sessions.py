"""Login sessions kept in the database, so any web process behind a proxy can serve them.

The browser holds a random token; the database holds its SHA-256, the user, a CSRF token
and two deadlines folded into `expires_at`: the idle one (moved at most once a minute as
the session is used) and the absolute one (a week after login)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.storage.models import User, UserSession, utcnow

log = logging.getLogger(__name__)

LIFETIME = dt.timedelta(days=7)
TOUCH_EVERY = dt.timedelta(minutes=1)
USER_AGENT_LENGTH = 200
TOKEN_MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: dt.timedelta
    lifetime: dt.timedelta = LIFETIME

    def expires_at(self, created_at: dt.datetime, seen_at: dt.datetime) -> dt.datetime:
        return min(created_at + self.lifetime, seen_at + self.idle)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is logged in on a request: the user as the database has it now."""

    session_id: int
    user_id: int
    username: str
    display_name: str
    role: str
    language: str
    interface: str | None
    csrf_token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _identity(row: UserSession, user: User) -> Identity:
    return Identity(
        session_id=row.id,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        language=user.language,
        interface=user.interface,
        csrf_token=row.csrf_token,
    )


async def start_session(
    sessions: async_sessionmaker[AsyncSession],
    user: User,
    policy: SessionPolicy,
    *,
    user_agent: str = "",
    now: dt.datetime | None = None,
) -> tuple[str, Identity]:
    """A new session for `user`: the cookie token and who it logs in. Expired sessions of
    everyone are deleted on the way (lazily, instead of a background task)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=policy.expires_at(now, now),
        user_agent=user_agent[:USER_AGENT_LENGTH],
    )
    async with sessions() as session, session.begin():
        await session.execute(delete(UserSession).where(UserSession.expires_at <= now))
        session.add(row)
    log.info("%s logged in (session %d)", user.username, row.id)
    return token, _identity(row, user)


async def resume_session(
    sessions: async_sessionmaker[AsyncSession],
    token: str,
    policy: SessionPolicy,
    *,
    now: dt.datetime | None = None,
) -> Identity | None:
    """Who the cookie `token` logs in, or None; an expired session is deleted."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    now = now or utcnow()
    async with sessions() as session, session.begin():
        found = (
            await session.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.token_hash == hash_token(token))
            )
        ).first()
        if found is None:
            return None
        row, user = found
        if (
            now >= row.expires_at
            or now - row.last_seen_at >= policy.idle
            or now - row.created_at >= policy.lifetime
            or not user.active
        ):
            await session.delete(row)
            log.info("session %d of %s expired", row.id, user.username)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
            row.expires_at = policy.expires_at(row.created_at, now)
        return _identity(row, user)


async def end_session(sessions: async_sessionmaker[AsyncSession], session_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(UserSession).where(UserSession.id == session_id))
