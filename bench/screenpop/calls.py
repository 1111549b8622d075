"""AMI frames of one answered queue call, recorded from the sandbox
(tests/fixtures/ami/recorded_answered_pl.txt), turned into as many calls as wanted: each
with its own ids, channels, agent phone, caller and routed customer. A call is two bursts:
up to the agent's phone ringing (AgentCalled), then the answer and the hang-up."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

RECORDED: Final = (
    Path(__file__).resolve().parents[2] / "tests/fixtures/ami/recorded_answered_pl.txt"
)
LEFT_OUT: Final = frozenset(
    {"FullyBooted", "PeerStatus", "ContactStatus", "QueueMemberAdded", "QueueMemberRemoved"}
)
RING: Final = "AgentCalled"
_IDS = re.compile(r"contact-center-1795629627\.(\d+)")
_BRIDGE = re.compile(r"BridgeUniqueid: [0-9a-f-]+")
_TIMESTAMP = re.compile(r"Timestamp: [0-9.]+")


def _frames() -> list[str]:
    text = RECORDED.read_text(encoding="utf-8").replace("\r\n", "\n")
    frames = [f.strip("\n") for f in text.split("\n\n") if f.strip()]
    kept = []
    for frame in frames:
        event = frame.split("\n", 1)[0].removeprefix("Event: ")
        if event not in LEFT_OUT:
            kept.append(frame)
    return kept


@dataclass(frozen=True, slots=True)
class Template:
    ring: str
    rest: str

    @classmethod
    def load(cls) -> Template:
        frames = _frames()
        cut = next(i for i, f in enumerate(frames) if f.startswith(f"Event: {RING}")) + 1
        return cls("\n\n".join(frames[:cut]) + "\n\n", "\n\n".join(frames[cut:]) + "\n\n")


@dataclass(frozen=True, slots=True)
class Call:
    number: int
    linkedid: str
    ring: bytes
    rest: bytes


def make_call(
    template: Template,
    run: str,
    number: int,
    agent: str,
    caller: str,
    name: str,
    customer_id: int,
) -> Call:
    """Call `number` of this run, ringing `agent` (an endpoint, e.g. "bench-7")."""
    bridge = f"BridgeUniqueid: {uuid.uuid4()}"

    def fill(text: str) -> bytes:
        text = _IDS.sub(lambda m: f"{run}-{number}.{m[1]}", text)
        text = _BRIDGE.sub(bridge, text)
        text = text.replace("agent-1001-00000001", f"{agent}-{number:08x}")
        text = text.replace("PJSIP/trunk-00000000", f"PJSIP/trunk-{number:08x}")
        text = text.replace("PJSIP/agent-1001", f"PJSIP/{agent}")
        text = text.replace("+48122370862", caller).replace("Ewa Jabłońska", name)
        text = text.replace("CC_CUSTOMER_ID=40", f"CC_CUSTOMER_ID={customer_id}")
        return text.replace("\n", "\r\n").encode()

    return Call(number, f"{run}-{number}.0", fill(template.ring), fill(template.rest))


def stamped(data: bytes) -> bytes:
    """The frames with Timestamp: now (the tracker reads the event's time from it)."""
    now = f"Timestamp: {time.time():.6f}".encode()
    return re.sub(rb"Timestamp: [0-9.]+", now, data)
