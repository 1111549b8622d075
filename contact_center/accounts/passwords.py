"""Password hashing with argon2id. Hashing is slow on purpose, so it runs in a worker thread,
never on the event loop; the parameters live in one object the app owns (tests use cheap
ones, production the library's defaults)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contact_center.errors import WeakPassword

MIN_LENGTH = 10
MAX_LENGTH = 1024


def check_strength(password: str) -> None:
    """Refuse a new password that is too short (or absurdly long)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")


@dataclass(frozen=True, slots=True)
class Verified:
    """The outcome of a check: `ok`, and a new hash when the parameters have changed."""

    ok: bool
    new_hash: str | None = None


@dataclass(slots=True)
class Passwords:
    """Hash and verify passwords with `hasher` (argon2id, the library's defaults)."""

    hasher: PasswordHasher = field(default_factory=lambda: PasswordHasher(type=Type.ID))
    _dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> Verified:
        """Check `password`; with no hash (unknown user, no password set) a dummy hash is
        checked instead, so the answer takes the same time either way, and is False."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash(secrets.token_urlsafe(16))
            await asyncio.to_thread(self._check, self._dummy, password)
            return Verified(ok=False)
        if not await asyncio.to_thread(self._check, password_hash, password):
            return Verified(ok=False)
        if self.hasher.check_needs_rehash(password_hash):
            return Verified(ok=True, new_hash=await self.hash(password))
        return Verified(ok=True)

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
