"""What a bus and a live-state store must offer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from contact_center.bus.agent_call import AgentCall
    from contact_center.calls.agents import AgentState


@dataclass(frozen=True, slots=True)
class BusMessage:
    topic: str
    data: dict[str, Any]

    def encode(self) -> str:
        return json.dumps({"topic": self.topic, "data": self.data}, ensure_ascii=False)

    @classmethod
    def decode(cls, raw: str | bytes) -> BusMessage:
        value = json.loads(raw)
        return cls(str(value["topic"]), dict(value["data"]))


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What one bridge last said about its Asterisk node."""

    node: str
    ami_connected: bool
    active_calls: int
    seen_at: float

    def encode(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: str | bytes) -> NodeStatus:
        value = json.loads(raw)
        return cls(
            str(value["node"]),
            bool(value["ami_connected"]),
            int(value["active_calls"]),
            float(value["seen_at"]),
        )


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """Live load of a queue: callers waiting and the longest wait now (seconds)."""

    waiting: int = 0
    longest_wait: float = 0.0


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What one node's bridge last saw of a queue: callers waiting, since when the oldest."""

    waiting: int
    oldest_since: float | None

    @staticmethod
    def merge(snapshots: list[dict[str, QueueSnapshot]], now: float) -> dict[str, QueueLoad]:
        """Every node's snapshots as one load per queue (waiting summed, oldest wins)."""
        merged: dict[str, QueueLoad] = {}
        for snapshot in snapshots:
            for queue, state in snapshot.items():
                load = merged.get(queue, QueueLoad())
                wait = now - state.oldest_since if state.oldest_since is not None else 0.0
                merged[queue] = QueueLoad(
                    load.waiting + state.waiting, max(load.longest_wait, max(wait, 0.0))
                )
        return merged

    @staticmethod
    def encode_all(snapshot: dict[str, QueueSnapshot]) -> str:
        return json.dumps({q: [s.waiting, s.oldest_since] for q, s in snapshot.items()})

    @staticmethod
    def decode_all(raw: str | bytes) -> dict[str, QueueSnapshot]:
        return {q: QueueSnapshot(int(w), o) for q, (w, o) in json.loads(raw).items()}


class Bus(Protocol):
    async def publish(self, message: BusMessage) -> None: ...

    def subscribe(self) -> AsyncIterator[BusMessage]: ...


class LiveState(Protocol):
    async def put_node(self, status: NodeStatus) -> None: ...

    async def nodes(self) -> list[NodeStatus]: ...

    async def put_queues(self, node: str, snapshot: dict[str, QueueSnapshot]) -> None: ...

    async def queue_loads(self) -> dict[str, QueueLoad]: ...

    async def put_agent_call(self, call: AgentCall) -> None:
        """Keep `call` as the agent's current call; an ended call is forgotten (only if it is
        the one kept: a late "ended" of an earlier call leaves the newer one)."""
        ...

    async def agent_call(self, interface: str) -> AgentCall | None:
        """The call on the phone `interface` now, if any."""
        ...

    async def agent_calls(self, interfaces: list[str]) -> dict[str, AgentCall]:
        """The calls on the phones `interfaces` now, by interface (phones without one are
        left out): one round trip."""
        ...

    async def put_agent_state(self, state: AgentState) -> None:
        """Keep `state` as the agent phone's state (a logged-out phone is forgotten)."""
        ...

    async def agent_state(self, interface: str) -> AgentState | None:
        """The state of the agent phone `interface`; None when it is in no queue."""
        ...

    async def agent_states(self) -> list[AgentState]:
        """Every logged-in agent phone's state, by interface."""
        ...

    async def ping(self) -> None: ...
