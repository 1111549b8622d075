"""The login form, logout, and `/api/me`."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from contact_center.accounts import authenticate, end_session, start_session
from contact_center.errors import LoginLocked, WrongCredentials
from contact_center.i18n import N_
from contact_center.web.auth.middleware import (
    clear_session_cookie,
    session_policy,
    set_session_cookie,
)
from contact_center.web.auth.roles import current_user, maybe_user, require_role, safe_next
from contact_center.web.keys import DATABASE, MESSAGING, PASSWORDS, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

# The login form's errors, translated in the template.
WRONG = N_("Wrong username or password.")
LOCKED = N_("Too many failed attempts for this username. Try again after %(time)s.")


def _form(
    request: web.Request,
    next_url: str,
    *,
    username: str = "",
    error: str = "",
    until: dt.datetime | None = None,
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {
        "next": next_url,
        "username": username,
        "error": error,
        "until": until,
    }
    return aiohttp_jinja2.render_template("login.html", request, context, status=status)


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


@routes.get("/login", name="login")
async def login_form(request: web.Request) -> web.StreamResponse:
    next_url = safe_next(request.query.get("next"))
    if maybe_user(request) is not None:
        return _see_other(next_url)
    return _form(request, next_url)


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = form.get("username"), form.get("password")
    next_url = safe_next(form.get("next"))
    if not isinstance(username, str) or not isinstance(password, str):
        return _form(request, next_url, error=WRONG, status=400)
    username = username.strip()
    database = request.app[DATABASE]
    try:
        user = await authenticate(database.sessions, request.app[PASSWORDS], username, password)
    except WrongCredentials:
        return _form(request, next_url, username=username, error=WRONG, status=401)
    except LoginLocked as err:
        return _form(
            request, next_url, username=username, error=LOCKED, until=err.until, status=429
        )
    previous = maybe_user(request)
    if previous is not None:  # never keep a session id across a login
        await end_session(database.sessions, previous.session_id)
    settings = request.app[SETTINGS]
    token, _identity = await start_session(
        database.sessions,
        user,
        session_policy(settings),
        user_agent=request.headers.get("User-Agent", ""),
    )
    response = _see_other(next_url)
    set_session_cookie(response, settings, token)
    return response


@routes.post("/logout", name="logout")
@require_role()
async def logout(request: web.Request) -> web.StreamResponse:
    identity = current_user(request)
    await end_session(request.app[DATABASE].sessions, identity.session_id)
    await request.app[MESSAGING].notifier.session_ended(identity.session_id)
    log.info("%s logged out", identity.username)
    response = _see_other("/login")
    clear_session_cookie(response, request.app[SETTINGS])
    return response


@routes.get("/api/me", name="api_me")
@require_role()
async def me(request: web.Request) -> web.StreamResponse:
    identity = current_user(request)
    return web.json_response(
        {
            "username": identity.username,
            "display_name": identity.display_name,
            "role": identity.role,
            "language": identity.language,
            "interface": identity.interface,
        }
    )
