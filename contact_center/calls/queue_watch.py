"""Who is waiting in which queue on this node, from AMI events. No I/O.

The bridge publishes the result as live state so routing can overflow a busy queue and the
wallboard can show callers waiting. After a (re)connect it is rebuilt from `QueueStatus`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from contact_center.ami import events as ev
from contact_center.bus import QueueSnapshot


class QueueWatch:
    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, float]] = {}

    def handle(self, event: ev.AmiEvent, now: float) -> bool:
        """Feed one event; True when the waiting callers changed."""
        match event:
            case ev.QueueCallerJoin():
                at = event.timestamp if event.timestamp is not None else now
                self._waiting.setdefault(event.queue, {})[event.channel.uniqueid] = at
                return True
            case ev.QueueCallerLeave() | ev.QueueCallerAbandon():
                return (
                    self._waiting.get(event.queue, {}).pop(event.channel.uniqueid, None) is not None
                )
        return False

    def resync(self, entries: Iterable[Mapping[str, str]], now: float) -> None:
        """Rebuild from a `QueueStatus` answer: its `QueueParams` name every queue and its
        `QueueEntry` events the callers waiting, with `Wait` in seconds."""
        waiting: dict[str, dict[str, float]] = {}
        for entry in entries:
            queue = entry.get("Queue", "")
            if not queue:
                continue
            callers = waiting.setdefault(queue, {})
            if entry.get("Event") == "QueueEntry" and entry.get("Uniqueid"):
                wait = entry.get("Wait", "0")
                callers[entry["Uniqueid"]] = now - (int(wait) if wait.isdigit() else 0)
        self._waiting = waiting

    def snapshot(self) -> dict[str, QueueSnapshot]:
        return {
            queue: QueueSnapshot(len(callers), min(callers.values()) if callers else None)
            for queue, callers in self._waiting.items()
        }
