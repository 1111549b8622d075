"""The one seam domain code uses to tell the rest of the system what happened."""

from __future__ import annotations

import logging

from contact_center.bus.agent_call import AgentCall
from contact_center.bus.base import Bus, BusMessage, LiveState, QueueSnapshot
from contact_center.bus.redis import Kept, RedisBus, RedisLiveState
from contact_center.calls.agents import TOPIC as AGENT_STATE
from contact_center.calls.agents import AgentState
from contact_center.calls.tracker import FinishedCall
from contact_center.errors import BusUnavailable

log = logging.getLogger(__name__)

QUEUES_CHANGED = "queues.changed"


class Notifier:
    def __init__(self, bus: Bus, live: LiveState | None = None) -> None:
        self._bus = bus
        self._live = live
        self._fused: RedisLiveState | None = None
        """Live state and bus on one Redis: keep and publish in one round trip (the bridge
        does this for every agent change, in order, on its event path)."""
        if (
            isinstance(live, RedisLiveState)
            and isinstance(bus, RedisBus)
            and live.client is bus.client
        ):
            self._fused = live

    async def _keep_and_publish(self, items: list[tuple[Kept, BusMessage]]) -> None:
        assert self._fused is not None
        try:
            await self._fused.keep_and_publish(items)
        except BusUnavailable as err:
            log.warning(
                "cannot keep or publish %d changes (%s): %s",
                len(items),
                ", ".join(sorted({m.topic for _, m in items})),
                err,
            )

    async def _fuse(self, kept: Kept, message: BusMessage) -> None:
        await self._keep_and_publish([(kept, message)])

    async def _publish(self, message: BusMessage) -> None:
        try:
            await self._bus.publish(message)
        except BusUnavailable as err:
            log.warning("cannot publish %s: %s", message.topic, err)

    async def interaction_logged(self, interaction_id: int, call: FinishedCall) -> None:
        await self._publish(
            BusMessage(
                "interaction_logged",
                {
                    "id": interaction_id,
                    "node": call.node,
                    "linkedid": call.linkedid,
                    "queue": call.queue,
                    "outcome": call.outcome,
                    "agent_interface": call.agent_interface,
                },
            )
        )

    async def agent_call(self, call: AgentCall) -> None:
        """The call on an agent's phone changed state: kept as the agent's current call (for
        pages that connect later), then pushed to that agent's pages."""
        if self._fused is not None:
            await self._fuse(call, call.message())
            return
        if self._live is not None:
            try:
                await self._live.put_agent_call(call)
            except BusUnavailable as err:
                log.warning(
                    "cannot keep the call %s/%s of %s: %s",
                    call.linkedid,
                    call.uniqueid,
                    call.agent_interface,
                    err,
                )
        await self._publish(call.message())

    async def agent_state(self, state: AgentState) -> None:
        """An agent phone's queue state changed (logged in or out, paused, ringing, on a
        call, in wrap-up): kept for pages that connect later, then pushed to the agent's
        pages (and anyone else's the hub addresses `agent.*` to)."""
        message = BusMessage(AGENT_STATE, state.to_data())
        if self._fused is not None:
            await self._fuse(state, message)
            return
        if self._live is not None:
            try:
                await self._live.put_agent_state(state)
            except BusUnavailable as err:
                log.warning("cannot keep the state of %s: %s", state.agent_interface, err)
        await self._publish(message)

    async def queues(self, node: str, snapshot: dict[str, QueueSnapshot]) -> None:
        """Who waits where on `node` now: kept for every process (routing's overflow, the
        wallboards), then `queues.changed` is published. Raises BusUnavailable when the
        snapshot cannot be kept (on Redis, kept and published in one round trip)."""
        message = BusMessage(QUEUES_CHANGED, {"node": node})
        if self._fused is not None:
            await self._fused.keep_and_publish([((node, snapshot), message)])
            return
        if self._live is not None:
            await self._live.put_queues(node, snapshot)
        await self._publish(message)

    async def session_ended(self, session_id: int) -> None:
        """A login session ended (a logout): every web process closes its websockets."""
        await self._publish(BusMessage("session.ended", {"session_id": session_id}))
