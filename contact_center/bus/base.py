"""What a bus and a live-state store must offer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol


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


class Bus(Protocol):
    async def publish(self, message: BusMessage) -> None: ...

    def subscribe(self) -> AsyncIterator[BusMessage]: ...


class LiveState(Protocol):
    async def put_node(self, status: NodeStatus) -> None: ...

    async def nodes(self) -> list[NodeStatus]: ...

    async def ping(self) -> None: ...
