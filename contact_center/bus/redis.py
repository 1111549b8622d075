"""Bus and live state in Redis, for several processes and several nodes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from contact_center.bus.base import BusMessage, NodeStatus, QueueLoad, QueueSnapshot
from contact_center.errors import BusUnavailable

CHANNEL = "cc:events"
NODES = "cc:nodes"
QUEUES = "cc:queues"


class RedisBus:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def publish(self, message: BusMessage) -> None:
        try:
            await self._redis.publish(CHANNEL, message.encode())
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err

    async def subscribe(self) -> AsyncIterator[BusMessage]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        try:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield BusMessage.decode(raw["data"])
        finally:
            await pubsub.unsubscribe(CHANNEL)
            await pubsub.aclose()  # type: ignore[no-untyped-call]


class RedisLiveState:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

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

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as err:
            raise BusUnavailable(f"Redis: {err}") from err
