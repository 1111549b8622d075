"""The bus between processes and the live state every process can read.

In the embedded mode both live in memory; in the split mode (several processes, several
nodes) both live in Redis. Domain code only sees `Notifier` and `LiveState`.
"""

from contact_center.bus.agent_call import AgentCall
from contact_center.bus.base import (
    Bus,
    BusMessage,
    LiveState,
    NodeStatus,
    QueueLoad,
    QueueSnapshot,
)
from contact_center.bus.memory import MemoryBus, MemoryLiveState
from contact_center.bus.notifier import Notifier

__all__ = [
    "AgentCall",
    "Bus",
    "BusMessage",
    "LiveState",
    "MemoryBus",
    "MemoryLiveState",
    "NodeStatus",
    "Notifier",
    "QueueLoad",
    "QueueSnapshot",
]
