"""The agent state JSON API: state, queue log-in/out, pause/resume, click-to-call, and the
pause reason and disposition lists; and what the desk page shows of the agent's state.

Every route needs a login; every POST a CSRF token (the auth middleware). Bodies are JSON
objects (or forms, from the desk's buttons). Errors are `{"error": <stable id>,
"message": ...}`: 400 invalid, 403 forbidden, 502 refused by Asterisk, 503 no bridge or no
AMI."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.agents import codes, service
from contact_center.calls.agents import LOGGED_OUT, AgentState
from contact_center.errors import (
    AgentCommandFailed,
    AgentCommandInvalid,
    AgentForbidden,
    BridgeUnavailable,
    BusUnavailable,
)
from contact_center.web.auth import current_user, require_role
from contact_center.web.auth.roles import refusal
from contact_center.web.keys import DATABASE, MESSAGING, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

Action = Callable[[web.Request, AsyncSession, dict[str, Any]], Awaitable[dict[str, Any]]]


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def _body(request: web.Request) -> dict[str, Any]:
    """A JSON object, or the fields of a form (the desk's buttons post forms)."""
    if request.content_type in FORM_TYPES:
        form = await request.post()
        return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if request.content_type != "application/json":
        raise AgentCommandInvalid("send a JSON object (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError as err:
        raise AgentCommandInvalid("the body is not JSON") from err
    if not isinstance(body, dict):
        raise AgentCommandInvalid("the body must be a JSON object")
    return body


async def _run(request: web.Request, action: Action, *, read_body: bool) -> web.Response:
    """One slice: body, session, rules, command; domain errors to stable HTTP errors."""
    try:
        body = await _body(request) if read_body else {}
        async with request.app[DATABASE].sessions() as session, session.begin():
            result = await action(request, session, body)
    except AgentCommandInvalid as err:
        return refusal(request, 400, "invalid", str(err))
    except AgentForbidden as err:
        return refusal(request, 403, "forbidden", str(err))
    except AgentCommandFailed as err:
        status = 503 if err.error == "ami_unavailable" else 502
        return refusal(request, status, err.error, str(err))
    except BridgeUnavailable as err:
        log.warning("agent API %s: %s", request.path, err)
        return refusal(request, 503, "bridge_unavailable", str(err))
    return web.json_response(result)


async def _state_of(request: web.Request, interface: str) -> dict[str, Any]:
    live = request.app[MESSAGING].live
    node = request.app[SETTINGS].node
    try:
        state = await live.agent_state(interface)
    except (BusUnavailable, ValueError) as err:
        log.warning("agent API: no state for %s: %s", interface, err)
        state = None
    if state is None:
        state = AgentState(interface, node, LOGGED_OUT, time.time())
    data = state.to_data()
    data["now"] = time.time()
    return data


async def desk_context(request: web.Request) -> dict[str, Any]:
    """For the desk page: the agent's state, the queues they may join, the pause reasons
    (a user without a phone gets none of it)."""
    identity = current_user(request)
    if not identity.interface:
        return {"state": None, "queues": [], "pause_reasons": []}
    state = AgentState.from_data(await _state_of(request, identity.interface))
    async with request.app[DATABASE].sessions() as session:
        queues = await service.queues_of(session, identity.user_id)
        reasons = await codes.list_codes(session, codes.PAUSE_REASON)
    return {"state": state, "queues": queues, "pause_reasons": reasons}


def _user_id(request: web.Request, body: dict[str, Any]) -> object:
    if "user_id" in body:
        return body["user_id"]
    raw = request.query.get("user_id")
    if raw is None:
        return None
    if not raw.isdigit():
        raise AgentCommandInvalid("user_id must be a number")
    return int(raw)


async def _show(
    request: web.Request, session: AsyncSession, body: dict[str, Any]
) -> dict[str, Any]:
    agent = await service.target_agent(
        session, current_user(request), _user_id(request, body), supervised=True
    )
    return {
        "agent": {
            "user_id": agent.user_id,
            "username": agent.username,
            "display_name": agent.display_name,
            "interface": agent.interface,
        },
        "state": await _state_of(request, agent.interface),
        "queues": await service.queues_of(session, agent.user_id),
        "pause_reasons": [c.to_data() for c in await codes.list_codes(session, codes.PAUSE_REASON)],
    }


@routes.get("/api/agent/state")
@require_role()
async def agent_state(request: web.Request) -> web.StreamResponse:
    """The agent's state (a supervisor or admin may ask for `?user_id=`), the queues they
    may join, and the pause reasons."""
    return await _run(request, _show, read_body=False)


@routes.post("/api/agent/login")
@require_role()
async def queue_login(request: web.Request) -> web.StreamResponse:
    """`{"queue": name}`: log the agent in to one of their queues."""

    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        identity = current_user(request)
        agent = await service.target_agent(session, identity, body.get("user_id"), supervised=False)
        await service.log_in(
            session,
            request.app[MESSAGING].commands,
            request.app[SETTINGS].node,
            agent,
            body.get("queue"),
        )
        return {"ok": True}

    return await _run(request, action, read_body=True)


@routes.post("/api/agent/logout")
@require_role()
async def queue_logout(request: web.Request) -> web.StreamResponse:
    """`{"queue": name}` or `{}` for every queue the agent is in; a supervisor may add
    `"user_id"`."""

    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        agent = await service.target_agent(
            session, current_user(request), body.get("user_id"), supervised=True
        )
        queue = body.get("queue")
        if queue is None:
            state = await _state_of(request, agent.interface)
            queues = [q["queue"] for q in state["queues"]]
        else:
            queues = [queue]
        await service.log_out(
            request.app[MESSAGING].commands, request.app[SETTINGS].node, agent, queues
        )
        return {"ok": True, "queues": queues}

    return await _run(request, action, read_body=True)


@routes.post("/api/agent/pause")
@require_role()
async def pause(request: web.Request) -> web.StreamResponse:
    """`{"reason": code}` from the pause reasons list; a supervisor may add `"user_id"`."""

    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        agent = await service.target_agent(
            session, current_user(request), body.get("user_id"), supervised=True
        )
        label = await service.pause(
            session,
            request.app[MESSAGING].commands,
            request.app[SETTINGS].node,
            agent,
            body.get("reason"),
        )
        return {"ok": True, "reason": label}

    return await _run(request, action, read_body=True)


@routes.post("/api/agent/resume")
@require_role()
async def resume(request: web.Request) -> web.StreamResponse:
    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        agent = await service.target_agent(
            session, current_user(request), body.get("user_id"), supervised=True
        )
        await service.resume(request.app[MESSAGING].commands, request.app[SETTINGS].node, agent)
        return {"ok": True}

    return await _run(request, action, read_body=True)


@routes.post("/api/agent/call")
@require_role()
async def click_to_call(request: web.Request) -> web.StreamResponse:
    """`{"customer_id": id, "number": "+48..."}`: ring the agent's phone, then the number."""

    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        settings = request.app[SETTINGS]
        customer_id = body.get("customer_id")
        if (
            isinstance(customer_id, str) and customer_id.isascii() and customer_id.isdigit()
        ):  # a form's field (the card)
            customer_id = int(customer_id)
        dialed = await service.click_to_call(
            session,
            request.app[MESSAGING].commands,
            settings.node,
            current_user(request),
            customer_id,
            body.get("number"),
            settings.default_region,
        )
        return {"ok": True, "number": dialed}

    return await _run(request, action, read_body=True)


@routes.get("/api/agents/states")
@require_role("supervisor", "admin")
async def all_states(request: web.Request) -> web.StreamResponse:
    """Every logged-in agent phone's state (for supervisors and wallboards)."""
    try:
        states = await request.app[MESSAGING].live.agent_states()
    except BusUnavailable as err:
        return refusal(request, 503, "bus_unavailable", str(err))
    return web.json_response({"agents": [s.to_data() for s in states], "now": time.time()})


@routes.get("/api/codes/{kind}")
@require_role()
async def code_list(request: web.Request) -> web.StreamResponse:
    """A list's entries in order: active ones, or every one for an admin with `?all=1`."""

    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        everything = request.query.get("all") == "1" and current_user(request).role == "admin"
        found = await codes.list_codes(session, request.match_info["kind"], everything=everything)
        return {"codes": [c.to_data() for c in found]}

    return await _run(request, action, read_body=False)


@routes.post("/api/codes/{kind}")
@require_role("admin")
async def code_save(request: web.Request) -> web.StreamResponse:
    """`{"code", "label", "position"?, "active"?}`: add an entry or change one (admins)."""

    async def action(
        request: web.Request, session: AsyncSession, body: dict[str, Any]
    ) -> dict[str, Any]:
        saved = await codes.save_code(
            session,
            request.match_info["kind"],
            body.get("code"),
            body.get("label"),
            position=body.get("position"),
            active=body.get("active", True),
        )
        return {"code": saved.to_data()}

    return await _run(request, action, read_body=True)
