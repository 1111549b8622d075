"""What is on each agent's phone, from the call tracker's steps. No I/O.

The bridge feeds every new step of a call here; out come the `AgentCall` states the agent's
page shows (ringing, connected, on hold, ended), one per change, for the agent whose phone
it is. A call that finishes ends on every phone it was still on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contact_center.bus.agent_call import AgentCall
from contact_center.calls.tracker import FinishedCall, OpenCall, Step

RING_ENDS = frozenset({"no_answer", "busy", "rejected"})


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the agent's page is told about the call (the caller, the routing decision)."""

    linkedid: str
    uniqueid: str
    caller_number: str
    caller_name: str
    queue: str | None
    variables: Mapping[str, str]


class AgentPhones:
    """The state of each agent's phone for each call, changed by the call's steps."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._phones: dict[str, dict[str, str]] = {}
        """linkedid -> agent interface -> state (ringing, connected, on_hold)."""
        self._seen: dict[str, int] = {}
        """linkedid -> how many of the call's steps were looked at."""

    def follow(self, call: OpenCall | FinishedCall, at: float) -> list[AgentCall]:
        """Look at the steps of ``call`` not seen yet (the tracker just handled an event of
        it); a finished call also ends on every phone it was still on."""
        steps = call.steps
        seen = self._seen.get(call.linkedid, 0)
        finished = isinstance(call, FinishedCall)
        if len(steps) == seen and not finished:
            return []
        facts = _facts(call)
        changes = self.steps(facts, steps[seen:])
        if finished:
            self._seen.pop(call.linkedid, None)
            changes += self.finished(facts, at)
        else:
            self._seen[call.linkedid] = len(steps)
        return changes

    def steps(self, call: CallFacts, steps: Iterable[Step]) -> list[AgentCall]:
        """The changes the new ``steps`` of ``call`` make to agents' phones."""
        phones = self._phones.get(call.linkedid)
        changes: list[AgentCall] = []
        for step in steps:
            agent = step.agent_interface
            if step.kind in ("hold", "unhold"):
                talking = [a for a, state in (phones or {}).items() if state != "ringing"]
                agent = agent or (talking[0] if talking else None)
            if agent is None:
                continue
            state = _state(step.kind)
            if state is None:
                continue
            if phones is None:
                phones = self._phones.setdefault(call.linkedid, {})
            if state == "ended":
                if phones.pop(agent, None) is None:
                    continue
            elif phones.get(agent) == state:
                continue
            else:
                phones[agent] = state
            changes.append(self._message(call, agent, state, step.at.timestamp()))
        if phones is not None and not phones:
            self._phones.pop(call.linkedid, None)
        return changes

    def finished(self, call: CallFacts, at: float) -> list[AgentCall]:
        """The call is over: it ends on every phone it was still on."""
        phones = self._phones.pop(call.linkedid, {})
        return [self._message(call, agent, "ended", at) for agent in phones]

    def _message(self, call: CallFacts, agent: str, state: str, at: float) -> AgentCall:
        variables = call.variables
        customer = variables.get("CC_CUSTOMER_ID", "")
        candidates = tuple(
            int(c) for c in variables.get("CC_CANDIDATES", "").split(",") if c.isdigit()
        )
        return AgentCall(
            agent_interface=agent,
            state=state,
            at=at,
            node=self.node,
            linkedid=call.linkedid,
            uniqueid=call.uniqueid,
            caller_number=call.caller_number or None,
            caller_name=call.caller_name or None,
            customer_id=int(customer) if customer.isdigit() else None,
            candidates=candidates,
            queue=call.queue or variables.get("CC_QUEUE") or None,
            route_rule=variables.get("CC_ROUTE_RULE") or None,
            route_reason=variables.get("CC_ROUTE_REASON") or None,
        )


def _facts(call: OpenCall | FinishedCall) -> CallFacts:
    if isinstance(call, FinishedCall):
        variables: Mapping[str, str] = {
            "CC_CUSTOMER_ID": "" if call.customer_id is None else str(call.customer_id),
            "CC_ROUTE_RULE": call.route_rule or "",
            "CC_ROUTE_REASON": call.route_reason or "",
        }
    else:
        variables = call.variables
    return CallFacts(
        call.linkedid, call.uniqueid, call.caller_number, call.caller_name, call.queue, variables
    )


def _state(kind: str) -> str | None:
    if kind == "ringing":
        return "ringing"
    if kind in ("connected", "unhold"):
        return "connected"
    if kind == "hold":
        return "on_hold"
    if kind in RING_ENDS or kind == "transferred":
        return "ended"
    return None
