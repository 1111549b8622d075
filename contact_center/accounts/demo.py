"""The demo's one password: generated on first use, kept in the state folder (mode 0600),
hashed once and given to every demo user, so a newcomer can log in and no well-known
password ever guards a running contact center."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from contact_center.accounts.passwords import Passwords
from contact_center.settings import Settings

log = logging.getLogger(__name__)

FILE_NAME = "demo-password"


@dataclass(frozen=True, slots=True)
class DemoPassword:
    password: str
    password_hash: str
    path: Path

    def __repr__(self) -> str:
        return f"DemoPassword(path={str(self.path)!r})"


def read_or_create(path: Path) -> str:
    """The password in `path`, or a new one written there (blocking: run it in a thread)."""
    try:
        password = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        password = ""
    if len(password) >= 10:
        return password
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return password


async def demo_password(settings: Settings, passwords: Passwords | None = None) -> DemoPassword:
    path = settings.state_dir / FILE_NAME
    password = await asyncio.to_thread(read_or_create, path)
    password_hash = await (passwords or Passwords()).hash(password)
    return DemoPassword(password, password_hash, path)


def log_demo_logins(demo: DemoPassword) -> None:
    log.info(
        "demo logins: admin (admin), mzielinska (supervisor), anowak (agent) and the other "
        "demo users, password %s (kept in %s)",
        demo.password,
        demo.path,
    )
