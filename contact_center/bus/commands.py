"""Commands from web processes to a node's bridge, and the bridge's reply.

The bridge owns the AMI link; a web process that wants a queue member added, paused or a
call originated asks the bridge of that node and waits a bounded time for its reply. No
bridge, or no reply in time, is `BridgeUnavailable`: the caller says so, nothing is retried
behind its back (a command such as click-to-call must not run twice).

- Embedded mode (`MemoryCommands`): the bridge registers its handler; a request calls it.
- Split mode (`RedisCommands`): the request is published on the node's channel
  (`cc:bridge:<node>`; PUBLISH says how many bridges heard it, so "none" fails at once);
  the bridge pushes its reply on a list named after the request id, which the requester
  pops with a timeout (BLPOP). The list expires, so a reply nobody waits for does not stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from contact_center.errors import BridgeUnavailable, BusUnavailable

log = logging.getLogger(__name__)

COMMAND_TIMEOUT: Final = 5.0
"""Seconds a web request waits for the bridge's reply."""
CHANNEL_PREFIX: Final = "cc:bridge:"
REPLY_PREFIX: Final = "cc:bridge-reply:"
REPLY_TTL: Final = 30
_RETRY_SECONDS: Final = (0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True, slots=True)
class Command:
    node: str
    name: str
    args: Mapping[str, str]
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def encode(self) -> str:
        return json.dumps(
            {"node": self.node, "name": self.name, "args": dict(self.args), "id": self.request_id},
            ensure_ascii=False,
        )

    @classmethod
    def decode(cls, raw: str | bytes) -> Command:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("bridge command: not an object")
        args = value.get("args")
        if not isinstance(args, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in args.items()
        ):
            raise ValueError("bridge command: args must map text to text")
        node, name, request_id = value.get("node"), value.get("name"), value.get("id")
        if not all(isinstance(x, str) and x for x in (node, name, request_id)):
            raise ValueError("bridge command: node, name and id must be text")
        return cls(str(node), str(name), args, str(request_id))


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bridge did: ok, or a stable error id and a message for people."""

    ok: bool
    error: str = ""
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps(
            {"ok": self.ok, "error": self.error, "message": self.message, "data": dict(self.data)},
            ensure_ascii=False,
        )

    @classmethod
    def decode(cls, raw: str | bytes) -> Reply:
        value = json.loads(raw)
        if not isinstance(value, dict) or not isinstance(value.get("data", {}), dict):
            raise ValueError("bridge reply: not an object")
        return cls(
            bool(value.get("ok")),
            str(value.get("error") or ""),
            str(value.get("message") or ""),
            dict(value.get("data") or {}),
        )


Handler = Callable[[Command], Awaitable[Reply]]


class Commands(Protocol):
    async def request(self, node: str, name: str, args: Mapping[str, str]) -> Reply:
        """Send a command to `node`'s bridge and wait for its reply; BridgeUnavailable when
        no bridge runs for `node` or none answered in time."""
        ...

    async def serve(self, node: str, handler: Handler) -> None:
        """Answer the commands for `node` with `handler` until cancelled."""
        ...


class MemoryCommands:
    def __init__(self, timeout: float = COMMAND_TIMEOUT) -> None:
        self.timeout = timeout
        """Seconds a request waits for the bridge's reply."""
        self._handlers: dict[str, Handler] = {}

    async def request(self, node: str, name: str, args: Mapping[str, str]) -> Reply:
        handler = self._handlers.get(node)
        if handler is None:
            raise BridgeUnavailable(f"no bridge runs for node {node!r}")
        command, timeout = Command(node, name, dict(args)), self.timeout
        try:
            return await asyncio.wait_for(handler(command), timeout)
        except TimeoutError as err:
            raise BridgeUnavailable(
                f"the bridge of node {node!r} did not answer {name} in {timeout:g} s"
            ) from err

    async def serve(self, node: str, handler: Handler) -> None:
        if node in self._handlers:
            raise BusUnavailable(f"a bridge already serves node {node!r}")
        self._handlers[node] = handler
        try:
            await asyncio.Event().wait()
        finally:
            del self._handlers[node]


class RedisCommands:
    def __init__(self, redis: Redis, timeout: float = COMMAND_TIMEOUT) -> None:
        self._redis = redis
        self.timeout = timeout
        """Seconds a request waits for the bridge's reply."""

    async def request(self, node: str, name: str, args: Mapping[str, str]) -> Reply:
        command, timeout = Command(node, name, dict(args)), self.timeout
        key = REPLY_PREFIX + command.request_id
        try:
            heard = await self._redis.publish(CHANNEL_PREFIX + node, command.encode())
            if not heard:
                raise BridgeUnavailable(f"no bridge runs for node {node!r}")
            popped = await self._redis.blpop([key], timeout=timeout)
        except RedisError as err:
            raise BridgeUnavailable(f"Redis: {err}") from err
        if popped is None:
            raise BridgeUnavailable(
                f"the bridge of node {node!r} did not answer {name} in {timeout:g} s"
            )
        return Reply.decode(popped[1])

    async def serve(self, node: str, handler: Handler) -> None:
        """Subscribe to the node's channel and answer each command in a task of its own; a
        lost Redis link is said once and retried with a growing pause."""
        failures = 0
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    await self._listen(node, handler, running, failures > 0)
                except RedisError as err:
                    if failures == 0:
                        log.warning("bridge commands for %s: Redis unavailable (%s)", node, err)
                    await asyncio.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])
                    failures += 1
                else:
                    failures = 0
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _listen(
        self, node: str, handler: Handler, running: set[asyncio.Task[None]], back: bool
    ) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL_PREFIX + node)
            if back:
                log.info("bridge commands for %s: Redis back", node)
            async for raw in pubsub.listen():
                if raw.get("type") != "message":
                    continue
                try:
                    command = Command.decode(raw["data"])
                except ValueError as err:
                    log.warning("bridge commands for %s: dropped a malformed one (%s)", node, err)
                    continue
                task = asyncio.create_task(self._answer(command, handler))
                running.add(task)
                task.add_done_callback(running.discard)
        finally:
            with contextlib.suppress(RedisError):
                await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _answer(self, command: Command, handler: Handler) -> None:
        try:
            reply = await handler(command)
        except Exception:
            log.exception("bridge command %s (%s) failed", command.name, command.request_id)
            reply = Reply(False, "bridge_error", "The bridge failed on this command.")
        key = REPLY_PREFIX + command.request_id
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, reply.encode())
                pipe.expire(key, REPLY_TTL)
                await pipe.execute()
        except RedisError as err:
            log.warning("bridge command %s: cannot send the reply: %s", command.request_id, err)
