"""The message that tells an agent's page about the call on their phone: topic "agent.call".

The bridge publishes one each time the call on an agent's phone changes state (ringing,
connected, on hold, ended) through `Notifier.agent_call`; the live state keeps the latest one
per agent interface until the call ends, so a page that reconnects is shown the call again.
The web process pushes it only to the websockets of the users whose phone interface it names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from contact_center.bus.base import BusMessage

TOPIC: Final = "agent.call"
STATES: Final = ("ringing", "connected", "on_hold", "ended")
TEXT_LIMIT: Final = 200
"""Longest caller name, number, rule or reason kept; the rest is cut (a SIP display name is
the caller's to choose)."""


def _text(value: object, field: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"agent.call: {field} must be a non-empty string")
    return value[:TEXT_LIMIT]


def _int(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"agent.call: {field} must be an integer")
    return value


@dataclass(frozen=True, slots=True)
class AgentCall:
    """One state of the call on one agent's phone.

    `at` is when the bridge saw the state change (seconds since the epoch); `customer_id` is
    the customer the call was routed for, `candidates` the others sharing the number."""

    agent_interface: str
    state: str
    at: float
    node: str
    linkedid: str
    uniqueid: str
    caller_number: str | None = None
    caller_name: str | None = None
    customer_id: int | None = None
    candidates: tuple[int, ...] = ()
    queue: str | None = None
    route_rule: str | None = None
    route_reason: str | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"agent.call: state must be one of {', '.join(STATES)}")

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    def same_call(self, other: AgentCall) -> bool:
        return (self.node, self.linkedid) == (other.node, other.linkedid)

    def to_data(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every value, and this runs for every
        # change of every agent's call (the ingest benchmark's profile)
        data = {name: getattr(self, name) for name in self.__slots__}
        data["candidates"] = list(self.candidates)
        return data

    def message(self) -> BusMessage:
        return BusMessage(TOPIC, self.to_data())

    def encode(self) -> str:
        return json.dumps(self.to_data(), ensure_ascii=False)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AgentCall:
        """Checked field by field: raises ValueError on anything malformed."""
        at = data.get("at")
        if isinstance(at, bool) or not isinstance(at, int | float):
            raise ValueError("agent.call: at must be a number")
        candidates = data.get("candidates") or []
        if not isinstance(candidates, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in candidates
        ):
            raise ValueError("agent.call: candidates must be a list of integers")
        return cls(
            agent_interface=str(
                _text(data.get("agent_interface"), "agent_interface", required=True)
            ),
            state=str(_text(data.get("state"), "state", required=True)),
            at=float(at),
            node=str(_text(data.get("node"), "node", required=True)),
            linkedid=str(_text(data.get("linkedid"), "linkedid", required=True)),
            uniqueid=str(_text(data.get("uniqueid"), "uniqueid", required=True)),
            caller_number=_text(data.get("caller_number"), "caller_number"),
            caller_name=_text(data.get("caller_name"), "caller_name"),
            customer_id=_int(data.get("customer_id"), "customer_id"),
            candidates=tuple(candidates),
            queue=_text(data.get("queue"), "queue"),
            route_rule=_text(data.get("route_rule"), "route_rule"),
            route_reason=_text(data.get("route_reason"), "route_reason"),
        )

    @classmethod
    def decode(cls, raw: str | bytes) -> AgentCall:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("agent.call: not an object")
        return cls.from_data(value)
