"""Creating users and setting their passwords: the rules, then one database write."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.accounts.passwords import Passwords, check_strength
from contact_center.errors import BadAccount, UnknownUser, UserExists
from contact_center.storage.models import LANGUAGE_VALUES, ROLE_VALUES, User, UserSession

log = logging.getLogger(__name__)

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def check_username(username: str) -> str:
    if not 0 < len(username) <= 64 or not set(username) <= USERNAME_CHARS:
        raise BadAccount("a username is 1 to 64 lower-case letters, digits, '.', '_' or '-'")
    return username


def check_account(role: str, display_name: str, language: str, interface: str | None) -> None:
    if role not in ROLE_VALUES:
        raise BadAccount(f"role must be one of {', '.join(ROLE_VALUES)}")
    if not display_name.strip() or len(display_name) > 200:
        raise BadAccount("a display name is 1 to 200 characters")
    if language not in LANGUAGE_VALUES:
        raise BadAccount(f"language must be one of {', '.join(LANGUAGE_VALUES)}")
    if interface is not None and (
        not 0 < len(interface) <= 80 or "/" not in interface or any(c.isspace() for c in interface)
    ):
        raise BadAccount("an interface looks like PJSIP/agent-1001")


async def create_user(
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    language: str = "en",
    interface: str | None = None,
) -> User:
    """Add an active user with an argon2 password hash; UserExists if the name is taken."""
    check_username(username)
    check_account(role, display_name, language, interface)
    check_strength(password)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        language=language,
        interface=interface,
        password_hash=await passwords.hash(password),
        active=True,
    )
    try:
        async with sessions() as session, session.begin():
            session.add(user)
    except IntegrityError as err:
        raise UserExists(f"user {username!r} or interface {interface!r} exists") from err
    log.info("user %s added (%s)", username, role)
    return user


async def change_password(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, username: str, password: str
) -> None:
    """Set a new password and end every session of the user."""
    check_strength(password)
    password_hash = await passwords.hash(password)
    async with sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == username))
        if user is None:
            raise UnknownUser(f"no user {username!r}")
        user.password_hash = password_hash
        await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    log.info("password of %s changed; their sessions ended", username)
