"""The desk's fragments that need the database before they are rendered: the screen pop
(customer card, history, notes form) of a call new to a socket, and the agent's due tasks.

A socket loads a call's pop once, when the call first reaches it (ringing, or on connect),
and keeps it: the later states of the same call only re-render the live call card, so
nothing the agent is typing in the pop's forms is replaced."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final

import jinja2
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from contact_center.bus import AgentCall
from contact_center.crm import due_tasks
from contact_center.desk import reminders
from contact_center.web.desk_lifecycle import POPS
from contact_center.web.keys import DATABASE
from contact_center.web.push import render
from contact_center.web.push.hub import PushClient

log = logging.getLogger(__name__)

TASKS_DUE_TOPIC: Final = reminders.TOPIC
"""Published (with `user_id`) when a task of the user, or of a queue of theirs, fell due."""


async def call_frame(
    app: web.Application, env: jinja2.Environment, client: PushClient, call: AgentCall
) -> str:
    """The live call card, and the pop's panels when `call` is new to this socket."""
    language = client.identity.language
    frame = render.call_card(env, call, language)
    if client.pop_key == (call.node, call.linkedid):
        return frame
    client.pop_key = (call.node, call.linkedid)
    try:
        pop = await app[POPS].load(call, client.identity.user_id)
    except SQLAlchemyError as err:  # the call card still shows; the pop says nothing
        log.warning(
            "push: no pop for call %s of %s: %s", call.linkedid, client.identity.username, err
        )
        client.pop_key = None
        return frame
    return frame + render.pop_panels(env, pop, language, client.identity.csrf_token)


async def tasks_frame(app: web.Application, env: jinja2.Environment, client: PushClient) -> str:
    """The tasks due for the user now (their own and their queues'), read from the database."""
    identity = client.identity
    try:
        async with app[DATABASE].sessions() as session:
            tasks = await due_tasks(session, identity.user_id, dt.datetime.now(dt.UTC))
    except SQLAlchemyError as err:
        log.warning("push: no due tasks for %s: %s", identity.username, err)
        return ""
    return render.tasks_due(env, tasks, identity.language, identity.csrf_token)
