"""Who is logged in, and `require_role` for views: anonymous pages go to the login form,
anonymous API calls get 401, a wrong role gets 403."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp_jinja2
from aiohttp import web

from contact_center.accounts import Identity
from contact_center.storage.models import ROLE_VALUES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

IDENTITY = web.RequestKey("identity", Identity)
"""The logged-in user, put on the request by the auth middleware."""


class NotLoggedIn(LookupError):
    """`current_user` was called on a request without a session: a view forgot its
    `require_role`."""


def maybe_user(request: web.Request) -> Identity | None:
    return request.get(IDENTITY)


def current_user(request: web.Request) -> Identity:
    """The logged-in user of a view behind `require_role`."""
    identity = maybe_user(request)
    if identity is None:
        raise NotLoggedIn("no logged-in user on this request: is the view behind require_role?")
    return identity


def is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def safe_next(value: object, default: str = "/") -> str:
    """A place to go back to after login: only a path on this site, never another host."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def login_url(request: web.Request) -> str:
    if request.method not in {"GET", "HEAD"}:
        return "/login"
    return "/login?next=" + quote(request.rel_url.path_qs, safe="")


def refusal(request: web.Request, status: int, error: str, message: str) -> web.Response:
    """An error with a stable id: JSON under /api/, a small page elsewhere."""
    if is_api(request):
        return web.json_response({"error": error, "message": message}, status=status)
    context: dict[str, Any] = {"status": status, "message": message}
    return aiohttp_jinja2.render_template("error.html", request, context, status=status)


def require_role(*roles: str) -> Callable[[Handler], Handler]:
    """Let a view run only for a logged-in user with one of `roles` (any role if none).

    Roles are not ranked: list every role that may see the view, e.g.
    ``@require_role("supervisor", "admin")``."""
    unknown = set(roles) - set(ROLE_VALUES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            identity = maybe_user(request)
            if identity is None:
                if is_api(request):
                    return refusal(request, 401, "not_logged_in", "Log in first.")
                return web.Response(status=303, headers={"Location": login_url(request)})
            if roles and identity.role not in roles:
                return refusal(
                    request, 403, "forbidden", "Your role does not give access to this page."
                )
            return await handler(request)

        return guarded

    return decorate
