"""The one seam domain code uses to tell the rest of the system what happened."""

from __future__ import annotations

import logging

from contact_center.bus.base import Bus, BusMessage
from contact_center.calls.tracker import FinishedCall
from contact_center.errors import BusUnavailable

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus

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
