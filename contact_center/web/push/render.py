"""What a pushed bus message looks like on the page: an HTML fragment rendered by the
server (escaped by jinja2, in the user's language), which htmx swaps in by its id."""

from __future__ import annotations

import logging
import time

import jinja2

from contact_center.bus import AgentCall, BusMessage
from contact_center.bus.agent_call import TOPIC as AGENT_CALL
from contact_center.calls.agents import TOPIC as AGENT_STATE
from contact_center.calls.agents import AgentState
from contact_center.crm import TaskView
from contact_center.desk.pop import Pop

log = logging.getLogger(__name__)

CALL_CARD = "agent/call_card.html"
STATUS = "agent/push_status.html"
AGENT_STATE_PANEL = "agent/agent_state.html"
CALL_CUSTOMER = "agent/call_customer.html"
CALL_NOTES = "agent/call_notes.html"
TASKS_DUE = "agent/tasks_due.html"


def call_card(env: jinja2.Environment, call: AgentCall | None, language: str) -> str:
    return env.get_template(CALL_CARD).render(call=call, now=time.time(), language=language)


def pop_panels(env: jinja2.Environment, pop: Pop, language: str, csrf_token: str) -> str:
    """The customer panel and the notes form of a call: sent once per call."""
    context = {"pop": pop, "language": language, "csrf_token": csrf_token, "form": {}}
    return env.get_template(CALL_CUSTOMER).render(context) + env.get_template(CALL_NOTES).render(
        context
    )


def tasks_due(
    env: jinja2.Environment, tasks: tuple[TaskView, ...], language: str, csrf_token: str
) -> str:
    return env.get_template(TASKS_DUE).render(tasks=tasks, language=language, csrf_token=csrf_token)


def agent_state(env: jinja2.Environment, state: AgentState, language: str) -> str:
    return env.get_template(AGENT_STATE_PANEL).render(
        state=state, now=time.time(), language=language
    )


def connected(env: jinja2.Environment, language: str) -> str:
    return env.get_template(STATUS).render(connected=True, language=language)


def fragment(env: jinja2.Environment, message: BusMessage, language: str) -> str | None:
    """The fragment for `message`, or None when the page shows nothing of it (an unknown
    topic, or a malformed message, which is logged)."""
    if message.topic == AGENT_CALL:
        try:
            call = AgentCall.from_data(message.data)
        except ValueError as err:
            log.warning("push: malformed %s message dropped: %s", message.topic, err)
            return None
        return call_card(env, call, language)
    if message.topic == AGENT_STATE:
        try:
            state = AgentState.from_data(message.data)
        except ValueError as err:
            log.warning("push: malformed %s message dropped: %s", message.topic, err)
            return None
        return agent_state(env, state, language)
    return None
