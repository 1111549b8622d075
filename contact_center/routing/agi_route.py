"""The FastAGI entry point of routing: `AGI(agi://bridge:4573/route)` from the dialplan.

It answers with channel variables that the dialplan acts on and that Asterisk then carries
on every AMI event of the call (manager.conf `channelvars`). The dialplan sets every one to
its default before asking, so only the values that say something are sent.
"""

from __future__ import annotations

import logging

from contact_center.agi.protocol import AgiRequest
from contact_center.agi.server import AgiSession
from contact_center.routing.rules import RouteDecision
from contact_center.routing.service import Router

log = logging.getLogger(__name__)

DIALED_CHARACTERS = frozenset("0123456789+*#")


def dialed_number(request: AgiRequest) -> str:
    """The number the caller dialed, reduced to what a dialed number can hold."""
    return "".join(c for c in request.dnid or request.extension if c in DIALED_CHARACTERS)[:32]


ROUTE_FIELDS = (
    "CC_QUEUE",
    "CC_QUEUE_PRIORITY",
    "CC_CUSTOMER_ID",
    "CC_CANDIDATES",
    "CC_PREFERRED_AGENT",
    "CC_PREFERRED_SECONDS",
    "CC_LANGUAGE",
    "CC_AFTER_HOURS",
    "CC_ROUTE_RULE",
)
"""The fields of ``CC_ROUTE``, in order, joined by ``^``; the dialplan splits them with
``CUT()``. Every field but the last is a name, a number or a list of numbers, so it holds no
``^``; the rule's name comes last and takes the rest (``CUT(CC_ROUTE,^,9-)``)."""

SEPARATOR = "^"


def answer(decision: RouteDecision) -> dict[str, str]:
    """The channel variables that tell the dialplan what to do with the call.

    Two, so the answer costs two round trips (res_agi takes one command at a time):
    ``CC_ROUTE`` packs the decision, ``CC_ROUTE_REASON`` is free text of its own."""
    preferred = decision.preferred_agent or ""
    if SEPARATOR in preferred:  # a phone interface from the database; never a caller's text
        log.warning("preferred agent %r cannot be sent: ringing the queue only", preferred)
        preferred = ""
    fields = {
        "CC_QUEUE": decision.queue,
        "CC_QUEUE_PRIORITY": str(decision.priority) if decision.priority else "",
        "CC_CUSTOMER_ID": "" if decision.customer_id is None else str(decision.customer_id),
        "CC_CANDIDATES": ",".join(str(c) for c in decision.candidates[1:]),
        "CC_PREFERRED_AGENT": preferred,
        "CC_PREFERRED_SECONDS": str(decision.preferred_seconds) if preferred else "",
        "CC_LANGUAGE": decision.language or "",
        "CC_AFTER_HOURS": decision.after_hours or "",
        "CC_ROUTE_RULE": decision.rule,
    }
    for name, value in fields.items():
        if name != "CC_ROUTE_RULE" and SEPARATOR in value:  # names and numbers: a bug
            raise ValueError(f"{name} must not contain {SEPARATOR!r}: {value!r}")
    values = {"CC_ROUTE": SEPARATOR.join(fields[name] for name in ROUTE_FIELDS)}
    if decision.reason:
        values["CC_ROUTE_REASON"] = decision.reason
    return values


def unpack(route: str) -> dict[str, str]:
    """``CC_ROUTE`` read back as the dialplan reads it (for tests and tools)."""
    parts = route.split(SEPARATOR, len(ROUTE_FIELDS) - 1)
    parts += [""] * (len(ROUTE_FIELDS) - len(parts))
    return dict(zip(ROUTE_FIELDS, parts, strict=True))


async def route_call(router: Router, request: AgiRequest, session: AgiSession) -> None:
    decision = await router.route(
        request.caller_num, dialed=dialed_number(request), uniqueid=request.uniqueid
    )
    await session.set_variables(answer(decision))
    log.info(
        "uniqueid=%s routed to %s by rule %s (customer %s)%s",
        request.uniqueid,
        decision.queue,
        decision.rule,
        decision.customer_id,
        f", after hours: {decision.after_hours}" if decision.after_hours else "",
    )
