"""Bus and live state for the embedded mode: one process, no Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from contact_center.bus.agent_call import AgentCall
from contact_center.bus.base import BusMessage, NodeStatus, QueueLoad, QueueSnapshot
from contact_center.calls.agents import AgentState

SUBSCRIBER_BACKLOG = 1000


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[BusMessage]] = set()

    async def publish(self, message: BusMessage) -> None:
        for queue in self._subscribers:
            if queue.full():  # a stuck subscriber loses its oldest message, not the bus
                queue.get_nowait()
            queue.put_nowait(message)

    async def subscribe(self) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)


class MemoryLiveState:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeStatus] = {}
        self._queues: dict[str, dict[str, QueueSnapshot]] = {}
        self._agent_calls: dict[str, AgentCall] = {}
        self._agent_states: dict[str, AgentState] = {}

    async def put_node(self, status: NodeStatus) -> None:
        self._nodes[status.node] = status

    async def nodes(self) -> list[NodeStatus]:
        return sorted(self._nodes.values(), key=lambda s: s.node)

    async def put_queues(self, node: str, snapshot: dict[str, QueueSnapshot]) -> None:
        self._queues[node] = dict(snapshot)

    async def queue_loads(self) -> dict[str, QueueLoad]:
        return QueueSnapshot.merge(list(self._queues.values()), time.time())

    async def put_agent_call(self, call: AgentCall) -> None:
        if not call.ended:
            self._agent_calls[call.agent_interface] = call
            return
        kept = self._agent_calls.get(call.agent_interface)
        if kept is not None and kept.same_call(call):
            del self._agent_calls[call.agent_interface]

    async def agent_call(self, interface: str) -> AgentCall | None:
        return self._agent_calls.get(interface)

    async def agent_calls(self, interfaces: list[str]) -> dict[str, AgentCall]:
        return {i: self._agent_calls[i] for i in interfaces if i in self._agent_calls}

    async def put_agent_state(self, state: AgentState) -> None:
        if state.logged_in:
            self._agent_states[state.agent_interface] = state
        else:
            self._agent_states.pop(state.agent_interface, None)

    async def agent_state(self, interface: str) -> AgentState | None:
        return self._agent_states.get(interface)

    async def agent_states(self) -> list[AgentState]:
        return [self._agent_states[i] for i in sorted(self._agent_states)]

    async def ping(self) -> None:
        return None
