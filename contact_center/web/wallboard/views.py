"""`/wallboard` (the page, `?tv=1` full screen) and `/wallboard/push` (its websocket).

Both for supervisors and admins only. The socket gets the whole board at once, then the
fragments of what changed as the feed pushes them; it is refused without a session (401),
for an agent (403) and from another site's page (403), and closed when the login session
ends (checked every `SESSION_RECHECK` seconds)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

import aiohttp_jinja2
from aiohttp import WSCloseCode, web

from contact_center.accounts import resume_session
from contact_center.agents import codes
from contact_center.wallboard import render
from contact_center.wallboard.feed import BoardClient
from contact_center.web.auth import COOKIE, maybe_user, require_role
from contact_center.web.auth.middleware import session_policy
from contact_center.web.desk import CONTENT_SECURITY_POLICY
from contact_center.web.keys import DATABASE, SETTINGS, WALLBOARD
from contact_center.web.push.views import same_origin_upgrade

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

SUPERVISING: Final = ("supervisor", "admin")
HEARTBEAT: Final = 25.0
CLOSE_TIMEOUT: Final = 2.0
SESSION_RECHECK: Final = 60.0
POLICY_VIOLATION: Final = 1008


@routes.get("/wallboard", name="wallboard")
@require_role(*SUPERVISING)
async def wallboard_page(request: web.Request) -> web.StreamResponse:
    feed = request.app[WALLBOARD]
    board = await feed.fresh()
    async with request.app[DATABASE].sessions() as session:
        reasons = await codes.list_codes(session, codes.PAUSE_REASON)
    context: dict[str, Any] = render.page_context(board, _language(request), time.time())
    context |= {"tv": request.query.get("tv") == "1", "pause_reasons": reasons}
    response = aiohttp_jinja2.render_template("wallboard/page.html", request, context)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def _language(request: web.Request) -> str:
    identity = maybe_user(request)
    return identity.language if identity else "en"


def _refuse(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


@routes.get("/wallboard/push", name="wallboard_push")
async def wallboard_socket(request: web.Request) -> web.StreamResponse:
    identity = maybe_user(request)
    if identity is None:
        return _refuse(401, "not_logged_in", "Log in first.")
    if identity.role not in SUPERVISING:
        return _refuse(403, "forbidden", "Your role does not give access to the wallboard.")
    if not same_origin_upgrade(request):
        log.warning("wallboard: cross-origin upgrade by %s refused", identity.username)
        return _refuse(403, "cross_origin", "Connect from this site's own pages.")
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=4096, timeout=CLOSE_TIMEOUT)
    if not socket.can_prepare(request).ok:
        return _refuse(400, "websocket_expected", "This address takes a websocket.")
    await socket.prepare(request)
    feed = request.app[WALLBOARD]
    await feed.fresh()
    client = BoardClient(identity)
    feed.add(client)  # before the whole board is sent: a change made meanwhile is queued
    try:
        await socket.send_str(feed.whole(identity.language))
        await _serve(request, socket, client)
    except ConnectionResetError:
        pass
    finally:
        feed.remove(client)
    return socket


async def _serve(request: web.Request, socket: web.WebSocketResponse, client: BoardClient) -> None:
    tasks = {
        asyncio.create_task(_send(socket, client)),
        asyncio.create_task(_receive(socket)),
        asyncio.create_task(client.stopped.wait()),
        asyncio.create_task(_watch_session(request, client)),
    }
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("wallboard: a socket failed", exc_info=task.exception())
            client.stop(WSCloseCode.INTERNAL_ERROR)
    if client.stopped.is_set() and not socket.closed:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await socket.close(code=client.close_code)
        except (TimeoutError, ConnectionError):
            if request.transport is not None:
                request.transport.abort()


async def _send(socket: web.WebSocketResponse, client: BoardClient) -> None:
    while True:
        frame = await client.queue.get()
        try:
            await socket.send_str(frame)
        except ConnectionResetError:
            return


async def _receive(socket: web.WebSocketResponse) -> None:
    async for _message in socket:
        pass


async def _watch_session(request: web.Request, client: BoardClient) -> None:
    token = request.cookies.get(COOKIE, "")
    policy = session_policy(request.app[SETTINGS])
    while True:
        await asyncio.sleep(SESSION_RECHECK)
        identity = await resume_session(request.app[DATABASE].sessions, token, policy)
        if identity is None or identity.session_id != client.identity.session_id:
            client.stop(POLICY_VIOLATION)
            return
        if identity.role not in SUPERVISING:
            client.stop(POLICY_VIOLATION)
            return
