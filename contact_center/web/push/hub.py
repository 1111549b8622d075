"""Who is connected to this web process, and which of their websockets a bus message is for.

One listener per web process reads the bus and hands each message to `PushHub.dispatch`,
which puts it in the bounded queue of every client it is addressed to:

- topics `agent.*`: the clients of the user whose phone interface is `data["agent_interface"]`
  (e.g. "PJSIP/agent-1001") or whose user id is `data["user_id"]`;
- topics `user.*`: the clients of the user `data["user_id"]`;
- topics `supervisor.*`: every supervisor's and admin's client (wallboards);
- topic `session.ended`: closes the sockets of that login session (a logout).

Anything else on the bus (the bridge's own topics) is not for browsers. Every tab is a
client of its own, so all tabs of a user get the message. A client whose queue is full is
too slow: it is dropped (its socket closed), never waited for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from contact_center.accounts import Identity
from contact_center.bus import Bus, BusMessage

log = logging.getLogger(__name__)

SESSION_ENDED: Final = "session.ended"
CLIENT_BACKLOG: Final = 64
"""Messages a client may fall behind by before it is dropped."""
SUPERVISOR_ROLES: Final = frozenset({"supervisor", "admin"})
POLICY_VIOLATION: Final = 1008
"""Close code for a session that ended: the page does not reconnect."""
TRY_AGAIN_LATER: Final = 1013
SERVICE_RESTART: Final = 1012
"""Close codes after which the page reconnects (with a random pause)."""


@dataclass(eq=False)
class PushClient:
    """One connected websocket of one logged-in user."""

    identity: Identity
    backlog: int = CLIENT_BACKLOG
    queue: asyncio.Queue[BusMessage] = field(init=False)
    stopped: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    close_code: int = 1000
    close_reason: str = ""
    pop_key: tuple[str, str] | None = None
    """The call (node, linkedid) whose pop this socket was sent last."""

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.backlog)

    def stop(self, code: int, reason: str) -> None:
        """Ask the socket's handler to close it with `code` (the first reason wins)."""
        if not self.stopped.is_set():
            self.close_code, self.close_reason = code, reason
            self.stopped.set()

    def offer(self, message: BusMessage) -> None:
        if self.stopped.is_set():
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning(
                "push: a client of %s is %d messages behind: dropped",
                self.identity.username,
                self.backlog,
            )
            self.stop(TRY_AGAIN_LATER, "too slow")


SESSION_RECHECK: Final = 60.0


class PushHub:
    def __init__(self, session_recheck: float = SESSION_RECHECK) -> None:
        self.session_recheck = session_recheck
        """Seconds between checks that a socket's login session is still valid."""
        self._by_user: dict[int, set[PushClient]] = {}
        self._by_interface: dict[str, set[PushClient]] = {}
        self._supervisors: set[PushClient] = set()

    def add(self, client: PushClient) -> None:
        identity = client.identity
        self._by_user.setdefault(identity.user_id, set()).add(client)
        if identity.interface:
            self._by_interface.setdefault(identity.interface, set()).add(client)
        if identity.role in SUPERVISOR_ROLES:
            self._supervisors.add(client)

    def remove(self, client: PushClient) -> None:
        identity = client.identity
        _discard(self._by_user, identity.user_id, client)
        if identity.interface:
            _discard(self._by_interface, identity.interface, client)
        self._supervisors.discard(client)

    def clients(self) -> list[PushClient]:
        return [c for group in self._by_user.values() for c in group]

    def clients_of(self, user_id: int) -> list[PushClient]:
        return list(self._by_user.get(user_id, ()))

    def recipients(self, message: BusMessage) -> Iterable[PushClient]:
        topic, data = message.topic, message.data
        chosen: set[PushClient] = set()
        if topic.startswith(("agent.", "user.")):
            user_id = data.get("user_id")
            if isinstance(user_id, int) and not isinstance(user_id, bool):
                chosen |= self._by_user.get(user_id, set())
        if topic.startswith("agent."):
            interface = data.get("agent_interface")
            if isinstance(interface, str):
                chosen |= self._by_interface.get(interface, set())
        if topic.startswith("supervisor."):
            chosen |= self._supervisors
        return chosen

    def stop_all(self, code: int, reason: str) -> None:
        for client in self.clients():
            client.stop(code, reason)

    def dispatch(self, message: BusMessage) -> int:
        """Queue `message` for every client it is for; how many that was."""
        if message.topic == SESSION_ENDED:
            session_id = message.data.get("session_id")
            ended = [c for c in self.clients() if c.identity.session_id == session_id]
            for client in ended:
                client.stop(POLICY_VIOLATION, "logged out")
            return len(ended)
        count = 0
        for client in self.recipients(message):
            client.offer(message)
            count += 1
        return count


K = TypeVar("K")


def _discard(index: dict[K, set[PushClient]], key: K, client: PushClient) -> None:
    group = index.get(key)
    if group is not None:
        group.discard(client)
        if not group:
            del index[key]


BUS_RETRY_SECONDS: Final = (0.5, 1.0, 2.0, 5.0)


async def listen(bus: Bus, hub: PushHub) -> None:
    """The one bus listener of this web process: every message to the hub, for ever; a lost
    bus is said once, retried with a growing pause, and its return said once."""
    failures = 0
    while True:
        try:
            async for message in bus.subscribe():
                if failures:
                    log.info("push: bus back")
                    failures = 0
                hub.dispatch(message)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the listener must outlive any bus failure
            if failures == 0:
                log.warning("push: bus unavailable (%s): pages get no news until it is back", err)
            pause = BUS_RETRY_SECONDS[min(failures, len(BUS_RETRY_SECONDS) - 1)]
            failures += 1
            await asyncio.sleep(pause)
        else:
            await asyncio.sleep(BUS_RETRY_SECONDS[0])  # the subscription ended: subscribe again
