"""The FastAGI entry point of routing: `AGI(agi://bridge:4573/route)` from the dialplan.

It answers with channel variables the dialplan and the AMI events carry from then on.
"""

from __future__ import annotations

import logging

from contact_center.agi.protocol import AgiRequest
from contact_center.agi.server import AgiSession
from contact_center.routing.service import Router

log = logging.getLogger(__name__)


async def route_call(router: Router, request: AgiRequest, session: AgiSession) -> None:
    decision = await router.route(request.caller_num, uniqueid=request.uniqueid)
    answers = {
        "CC_QUEUE": decision.queue,
        "CC_QUEUE_PRIORITY": str(decision.priority),
        "CC_CUSTOMER_ID": "" if decision.customer_id is None else str(decision.customer_id),
        "CC_ROUTE_RULE": decision.rule,
        "CC_ROUTE_REASON": decision.reason,
    }
    for name, value in answers.items():
        await session.set_variable(name, value)
    log.info(
        "uniqueid=%s routed to %s by rule %s (customer %s)",
        request.uniqueid,
        decision.queue,
        decision.rule,
        decision.customer_id,
    )
