"""`POST /api/wallboard/{action}`: listen, whisper, barge, pause, resume, logout, on the agent
`user_id` (JSON or the wallboard's form posts; `reason` for a pause: a pause reason's code);
callback and assign, of the abandoned call `interaction_id`, to the agent `user_id`.

Supervisors and admins only; an agent's attempt is refused (403) and recorded. Errors are
`{"error": <stable id>, "message": ...}`: 400 invalid, 403 forbidden, 502 refused by
Asterisk, 503 no bridge or no AMI."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from contact_center.errors import (
    AgentCommandFailed,
    AgentCommandInvalid,
    AgentForbidden,
    BridgeUnavailable,
)
from contact_center.wallboard.actions import ACTIONS, WORKLIST_ACTIONS, SupervisorActions
from contact_center.web.auth import current_user, require_role
from contact_center.web.auth.roles import refusal
from contact_center.web.keys import DATABASE, MESSAGING, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type in FORM_TYPES:
        form = await request.post()
        body: dict[str, Any] = {
            k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"
        }
    elif request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as err:
            raise AgentCommandInvalid("the body is not JSON") from err
        if not isinstance(body, dict):
            raise AgentCommandInvalid("the body must be a JSON object")
    else:
        raise AgentCommandInvalid("send a JSON object or a form")
    for name in ("user_id", "interaction_id"):
        value = body.get(name)
        if isinstance(value, str):
            if not value.isdigit():
                raise AgentCommandInvalid(f"{name} must be a number")
            body[name] = int(value)
    return body


@routes.post("/api/wallboard/{action}")
@require_role()
async def supervisor_action(request: web.Request) -> web.StreamResponse:
    action = request.match_info["action"]
    if action not in ACTIONS:
        return refusal(request, 404, "not_found", "No such action.")
    actions = SupervisorActions(
        request.app[DATABASE].sessions,
        request.app[MESSAGING].commands,
        request.app[MESSAGING].live,
        request.app[SETTINGS].node,
        request.app[MESSAGING].bus,
    )
    try:
        body = await _body(request)
        actor = current_user(request)
        if action in WORKLIST_ACTIONS:
            done = await actions.worklist(
                actor, action, body.get("interaction_id"), body.get("user_id")
            )
        else:
            done = await actions.run(actor, action, body.get("user_id"), body.get("reason"))
    except AgentCommandInvalid as err:
        return refusal(request, 400, "invalid", str(err))
    except AgentForbidden as err:
        return refusal(request, 403, "forbidden", str(err))
    except AgentCommandFailed as err:
        status = 503 if err.error == "ami_unavailable" else 502
        return refusal(request, status, err.error, str(err))
    except BridgeUnavailable as err:
        log.warning("wallboard action %s: %s", action, err)
        return refusal(request, 503, "bridge_unavailable", str(err))
    return web.json_response({"ok": True, "message": done.message})
