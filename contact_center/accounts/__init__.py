"""Accounts: users and their passwords, logins with a lockout, and login sessions.

The rules live here, free of the web; `contact_center.web.auth` puts them behind cookies,
CSRF checks and role checks."""

from __future__ import annotations

from contact_center.accounts.login import authenticate
from contact_center.accounts.passwords import Passwords, check_strength
from contact_center.accounts.sessions import (
    Identity,
    SessionPolicy,
    end_session,
    resume_session,
    start_session,
)
from contact_center.accounts.users import change_password, create_user

__all__ = [
    "Identity",
    "Passwords",
    "SessionPolicy",
    "authenticate",
    "change_password",
    "check_strength",
    "create_user",
    "end_session",
    "resume_session",
    "start_session",
]
