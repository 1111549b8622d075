"""The auth middleware: the session cookie to an Identity, and CSRF checks.

Every non-safe request on a session must carry that session's CSRF token (form field
`csrf_token` or header `X-CSRF-Token`). Requests without a session (the login form) must
come from this site: their `Origin` (or, without one, `Referer`) host must be the
request's host. So is the login form itself, with or without a session."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from contact_center.accounts import SessionPolicy, resume_session
from contact_center.settings import Settings
from contact_center.web.auth.roles import IDENTITY, Handler, maybe_user, refusal
from contact_center.web.keys import DATABASE, SETTINGS

log = logging.getLogger(__name__)

COOKIE = "cc_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
LOGIN_PATHS = frozenset({"/login"})
"""Checked by origin even with a session: a form loaded before logging in elsewhere still works."""
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(idle=dt.timedelta(minutes=settings.session_idle_minutes))


def set_session_cookie(response: web.StreamResponse, settings: Settings, token: str) -> None:
    """A browser-session cookie: the server enforces the idle and absolute deadlines."""
    response.set_cookie(
        COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.cookie_secure or None,
    )


def clear_session_cookie(response: web.StreamResponse, settings: Settings) -> None:
    response.del_cookie(
        COOKIE, path="/", httponly=True, samesite="Lax", secure=settings.cookie_secure or None
    )


async def _sent_csrf_token(request: web.Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.content_type in FORM_TYPES:
        value = (await request.post()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    return token


def same_origin(request: web.Request) -> bool:
    """True when the request's Origin (or Referer) names this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    host = urlsplit(source).netloc.lower()
    return bool(host) and host == request.host.lower()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    token = request.cookies.get(COOKIE)
    stale = False
    if token:
        identity = await resume_session(
            request.app[DATABASE].sessions, token, session_policy(settings)
        )
        if identity is None:
            stale = True
        else:
            request[IDENTITY] = identity
    refused = await _check_csrf(request)
    response: web.StreamResponse = refused or await _handle(request, handler, stale, settings)
    if stale:
        clear_session_cookie(response, settings)
    return response


async def _handle(
    request: web.Request, handler: Handler, stale: bool, settings: Settings
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if stale:
            clear_session_cookie(exc, settings)
        raise


async def _check_csrf(request: web.Request) -> web.Response | None:
    if request.method in SAFE_METHODS:
        return None
    identity = maybe_user(request)
    if identity is None or request.path in LOGIN_PATHS:
        if same_origin(request):
            return None
        log.warning("cross-site %s %s refused (no session)", request.method, request.path)
        return refusal(
            request,
            403,
            "cross_origin",
            "This form was sent from another site, or your browser hid where it came from.",
        )
    sent = await _sent_csrf_token(request)
    if sent is not None and hmac.compare_digest(sent.encode(), identity.csrf_token.encode()):
        return None
    log.warning(
        "%s %s by %s without a valid CSRF token", request.method, request.path, identity.username
    )
    return refusal(
        request,
        403,
        "csrf_failed",
        "The form's security token is missing or out of date. Reload the page and try again.",
    )


async def template_context(request: web.Request) -> dict[str, Any]:
    """For every template: the logged-in user and the CSRF token for its forms."""
    identity = maybe_user(request)
    return {"current_user": identity, "csrf_token": identity.csrf_token if identity else ""}
