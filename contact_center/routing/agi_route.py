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


def answer(decision: RouteDecision) -> dict[str, str]:
    """The channel variables that tell the dialplan what to do with the call."""
    values = {
        "CC_QUEUE": decision.queue,
        "CC_QUEUE_PRIORITY": str(decision.priority) if decision.priority else "",
        "CC_CUSTOMER_ID": "" if decision.customer_id is None else str(decision.customer_id),
        "CC_CANDIDATES": ",".join(str(c) for c in decision.candidates[1:]),
        "CC_ROUTE_RULE": decision.rule,
        "CC_ROUTE_REASON": decision.reason,
        "CC_PREFERRED_AGENT": decision.preferred_agent or "",
        "CC_PREFERRED_SECONDS": str(decision.preferred_seconds) if decision.preferred_agent else "",
        "CC_LANGUAGE": decision.language or "",
        "CC_AFTER_HOURS": decision.after_hours or "",
    }
    return {name: value for name, value in values.items() if value or name == "CC_QUEUE"}


async def route_call(router: Router, request: AgiRequest, session: AgiSession) -> None:
    decision = await router.route(
        request.caller_num, dialed=dialed_number(request), uniqueid=request.uniqueid
    )
    # one write and one round trip for all of them (Asterisk answers them in order)
    await session.set_variables(answer(decision))
    log.info(
        "uniqueid=%s routed to %s by rule %s (customer %s)%s",
        request.uniqueid,
        decision.queue,
        decision.rule,
        decision.customer_id,
        f", after hours: {decision.after_hours}" if decision.after_hours else "",
    )
