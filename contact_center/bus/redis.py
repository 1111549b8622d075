"""Bus and live state in Redis, for several processes and several nodes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from contact_center.bus.agent_call import AgentCall
from contact_center.bus.base import BusMessage, NodeStatus, QueueLoad, QueueSnapshot
from contact_center.calls.agents import AgentState
from contact_center.errors import BusUnavailable

Kept = AgentState | AgentCall | tuple[str, dict[str, QueueSnapshot]]
"""What the live state keeps with a message: an agent state, an agent call, or a node's
queue snapshot."""

CHANNEL = "cc:events"
NODES = "cc:nodes"
QUEUES = "cc:queues"
AGENT_CALL = "cc:agent-call:"
AGENT_STATES = "cc:agent-states"
"""A hash: agent interface -> its AgentState (only phones logged in to some queue)."""
AGENT_CALL_TTL = 4 * 3600
"""A kept call outlives no bridge that stopped before its "ended": it expires after 4 hours."""
FORGET_ENDED = """
local kept = redis.call('GET', KEYS[1])
if kept then
  local call = cjson.decode(kept)
  if call['node'] == ARGV[1] and call['linkedid'] == ARGV[2] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0
"""


class RedisBus:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @property
    def client(self) -> Redis:
        return self._redis

    async def publish(self, message: BusMessage) -> None:
        try:
            await self._redis.publish(CHANNEL, message.encode())
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def subscribe(self) -> AsyncIterator[BusMessage]:
        """Messages until the link to Redis breaks, then BusUnavailable."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield BusMessage.decode(raw["data"])
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        finally:
            with contextlib.suppress(RedisError):  # the link may be the thing that broke
                await pubsub.unsubscribe(CHANNEL)
            await pubsub.aclose()  # type: ignore[no-untyped-call]


class RedisLiveState:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @property
    def client(self) -> Redis:
        return self._redis

    async def keep_and_publish(self, items: list[tuple[Kept, BusMessage]]) -> None:
        """Keep each agent state, agent call or node's queue snapshot and publish its
        message, all in order, in one round trip (a pipeline: one connection, commands
        applied in order, so a process that reads the live state when a message arrives
        finds the value kept with it or a later one)."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for kept, message in items:
                    if isinstance(kept, AgentState):
                        _stage_agent_state(pipe, kept)
                    elif isinstance(kept, AgentCall):
                        _stage_agent_call(pipe, kept)
                    else:
                        node, snapshot = kept
                        pipe.hset(QUEUES, node, QueueSnapshot.encode_all(snapshot))
                    pipe.publish(CHANNEL, message.encode())
                await pipe.execute()
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def put_node(self, status: NodeStatus) -> None:
        try:
            await self._redis.hset(NODES, status.node, status.encode())
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def nodes(self) -> list[NodeStatus]:
        try:
            values = await self._redis.hgetall(NODES)
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        return sorted((NodeStatus.decode(v) for v in values.values()), key=lambda s: s.node)

    async def put_queues(self, node: str, snapshot: dict[str, QueueSnapshot]) -> None:
        try:
            await self._redis.hset(QUEUES, node, QueueSnapshot.encode_all(snapshot))
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def queue_loads(self) -> dict[str, QueueLoad]:
        try:
            values = await self._redis.hgetall(QUEUES)
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        return QueueSnapshot.merge(
            [QueueSnapshot.decode_all(raw) for raw in values.values()], time.time()
        )

    async def put_agent_call(self, call: AgentCall) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                _stage_agent_call(pipe, call)
                await pipe.execute()
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def agent_call(self, interface: str) -> AgentCall | None:
        try:
            raw = await self._redis.get(AGENT_CALL + interface)
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        return None if raw is None else AgentCall.decode(raw)

    async def agent_calls(self, interfaces: list[str]) -> dict[str, AgentCall]:
        if not interfaces:
            return {}
        try:
            values = await self._redis.mget([AGENT_CALL + i for i in interfaces])
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        return {i: AgentCall.decode(raw) for i, raw in zip(interfaces, values, strict=True) if raw}

    async def put_agent_state(self, state: AgentState) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                _stage_agent_state(pipe, state)
                await pipe.execute()
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def agent_state(self, interface: str) -> AgentState | None:
        try:
            raw = await self._redis.hget(AGENT_STATES, interface)
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        return None if raw is None else AgentState.decode(raw)

    async def agent_states(self) -> list[AgentState]:
        try:
            values = await self._redis.hgetall(AGENT_STATES)
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
        return [AgentState.decode(values[k]) for k in sorted(values)]

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err


def _stage_agent_call(pipe: Any, call: AgentCall) -> None:
    key = AGENT_CALL + call.agent_interface
    if call.ended:
        pipe.eval(FORGET_ENDED, 1, key, call.node, call.linkedid)
    else:
        pipe.set(key, call.encode(), ex=AGENT_CALL_TTL)


def _stage_agent_state(pipe: Any, state: AgentState) -> None:
    if state.logged_in:
        pipe.hset(AGENT_STATES, state.agent_interface, state.encode())
    else:
        pipe.hdel(AGENT_STATES, state.agent_interface)
