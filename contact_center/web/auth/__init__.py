"""The web side of accounts: session cookies, CSRF checks, role checks, login and logout.

Views use `require_role(...)` and `current_user(request)`; templates get `current_user` and
`csrf_token`."""

from __future__ import annotations

from contact_center.web.auth.middleware import COOKIE, auth_middleware, template_context
from contact_center.web.auth.roles import current_user, maybe_user, require_role, safe_next
from contact_center.web.auth.views import routes

__all__ = [
    "COOKIE",
    "auth_middleware",
    "current_user",
    "maybe_user",
    "require_role",
    "routes",
    "safe_next",
    "template_context",
]
