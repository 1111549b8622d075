"""The push channel: `/push`, a websocket tied to the login session.

The upgrade is refused without a valid session (401) and from another site's page (403: the
browser's Origin must be this host). Once open, the socket gets the user's current call
from the live state (so a page that reconnects shows it again), then every message the hub
queues for it, as HTML fragments. It is closed when the session ends (checked again every
`PushHub.session_recheck` seconds, and at once on logout: 1008, the page stays closed), when
the user's role, language or phone changed (1012: the page reconnects as the user is now),
when the client falls too far behind (1013), and when the server stops (1012)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSCloseCode, web

from contact_center.accounts import Identity, resume_session
from contact_center.bus import AgentCall, BusMessage
from contact_center.bus.agent_call import TOPIC as AGENT_CALL
from contact_center.calls.agents import LOGGED_OUT, AgentState
from contact_center.errors import BusUnavailable
from contact_center.web.auth import COOKIE, maybe_user
from contact_center.web.auth.middleware import session_policy
from contact_center.web.keys import DATABASE, MESSAGING, PUSH_HUB, SETTINGS
from contact_center.web.push import desk_frames, render
from contact_center.web.push.hub import POLICY_VIOLATION, SERVICE_RESTART, PushClient

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

CLOSE_TIMEOUT: Final = 2.0
HEARTBEAT: Final = 25.0
MAX_INCOMING: Final = 4096
"""The page sends nothing; a peer that does gets no more than this per message."""


def _refuse(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


def same_origin_upgrade(request: web.Request) -> bool:
    """A browser always sends Origin with a websocket upgrade: it must be this host."""
    origin = request.headers.get("Origin", "")
    parts = urlsplit(origin)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == request.host.lower()


@routes.get("/push", name="push")
async def push_socket(request: web.Request) -> web.StreamResponse:
    identity = maybe_user(request)
    if identity is None:
        return _refuse(401, "not_logged_in", "Log in first.")
    if not same_origin_upgrade(request):
        log.warning("push: cross-origin upgrade by %s refused", identity.username)
        return _refuse(403, "cross_origin", "Connect from this site's own pages.")
    socket = web.WebSocketResponse(
        heartbeat=HEARTBEAT, max_msg_size=MAX_INCOMING, timeout=CLOSE_TIMEOUT
    )
    if not socket.can_prepare(request).ok:
        return _refuse(400, "websocket_expected", "This address takes a websocket.")
    await socket.prepare(request)
    client = PushClient(identity)
    hub = request.app[PUSH_HUB]
    hub.add(client)
    log.info("push: %s connected (%d clients here)", identity.username, len(hub.clients()))
    try:
        await _serve(request, socket, client)
    finally:
        hub.remove(client)
        log.info("push: %s disconnected", identity.username)
    return socket


async def _serve(request: web.Request, socket: web.WebSocketResponse, client: PushClient) -> None:
    env = aiohttp_jinja2.get_env(request.app)
    language = client.identity.language
    await socket.send_str(render.connected(env, language))
    # the call card with its pop, (for an agent) their queue state and due tasks: one
    # frame, htmx swaps each by id
    call = await _current_call(request, client)
    if call is None:
        frame = render.call_card(env, None, language)
    else:
        frame = await desk_frames.call_frame(request.app, env, client, call)
    state = await _current_state(request, client)
    if state is not None:
        frame += render.agent_state(env, state, language)
        frame += await desk_frames.tasks_frame(request.app, env, client)
    await socket.send_str(frame)
    tasks = {
        asyncio.create_task(_send(request.app, socket, client, env)),
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
            log.error(
                "push: the socket of %s failed",
                client.identity.username,
                exc_info=task.exception(),
            )
            client.stop(WSCloseCode.INTERNAL_ERROR, "server error")
    if client.stopped.is_set() and not socket.closed:
        await _close(request, socket, client)


async def _current_call(request: web.Request, client: PushClient) -> AgentCall | None:
    interface = client.identity.interface
    if not interface:
        return None
    try:
        return await request.app[MESSAGING].live.agent_call(interface)
    except (BusUnavailable, ValueError) as err:
        log.warning("push: no current call for %s: %s", interface, err)
        return None


async def _current_state(request: web.Request, client: PushClient) -> AgentState | None:
    """The agent's queue state now (logged out when in no queue); None without a phone."""
    interface = client.identity.interface
    if not interface:
        return None
    try:
        state = await request.app[MESSAGING].live.agent_state(interface)
    except (BusUnavailable, ValueError) as err:
        log.warning("push: no agent state for %s: %s", interface, err)
        state = None
    return state or AgentState(interface, request.app[SETTINGS].node, LOGGED_OUT, time.time())


async def _send(
    app: web.Application, socket: web.WebSocketResponse, client: PushClient, env: jinja2.Environment
) -> None:
    language = client.identity.language
    while True:
        message = await client.queue.get()
        frame = await _frame(app, env, client, message, language)
        if frame is not None:
            try:
                await socket.send_str(frame)
            except ConnectionResetError:  # the page went away as we sent: not a failure
                return


async def _frame(
    app: web.Application,
    env: jinja2.Environment,
    client: PushClient,
    message: BusMessage,
    language: str,
) -> str | None:
    """The fragment for `message`; a call (with its pop) and due tasks need the database."""
    if message.topic == AGENT_CALL:
        try:
            call = AgentCall.from_data(message.data)
        except ValueError as err:
            log.warning("push: malformed %s message dropped: %s", message.topic, err)
            return None
        return await desk_frames.call_frame(app, env, client, call)
    if message.topic == desk_frames.TASKS_DUE_TOPIC:
        return await desk_frames.tasks_frame(app, env, client) or None
    return render.fragment(env, message, language)


async def _receive(socket: web.WebSocketResponse) -> None:
    """Read until the page goes away (aiohttp answers pings and close frames meanwhile)."""
    async for _message in socket:
        pass


async def _watch_session(request: web.Request, client: PushClient) -> None:
    token = request.cookies.get(COOKIE, "")
    policy = session_policy(request.app[SETTINGS])
    sessions = request.app[DATABASE].sessions
    while True:
        await asyncio.sleep(request.app[PUSH_HUB].session_recheck)
        identity = await resume_session(sessions, token, policy)
        if identity is None or identity.session_id != client.identity.session_id:
            client.stop(POLICY_VIOLATION, "session ended")
            return
        if _account(identity) != _account(client.identity):
            client.stop(SERVICE_RESTART, "account changed")  # the page reconnects as it is now
            return


def _account(identity: Identity) -> tuple[str, str, str | None]:
    """What decides which messages a socket gets, and in which language."""
    return identity.role, identity.language, identity.interface


async def _close(request: web.Request, socket: web.WebSocketResponse, client: PushClient) -> None:
    """Close with the client's code; a peer that does not take the close frame in time (a
    stuck client) has its connection cut."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await socket.close(code=client.close_code, message=client.close_reason.encode())
    except (TimeoutError, ConnectionError):
        transport = request.transport
        if transport is not None:
            transport.abort()
