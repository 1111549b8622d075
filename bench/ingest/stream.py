"""The recorded AMI stream: load it, describe it, and repeat it with every call made new.

Bytes only, on purpose: nothing here uses our AMI code, so the counts the benchmark checks
its results against do not come from the code under test.
"""

from __future__ import annotations

import collections
import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_STREAM = HERE / "stream.ami.gz"
INBOUND_CONTEXTS = (b"from-trunk",)
"""Where a call from the carrier starts (asterisk-config: [from-trunk])."""

_FRAME_END = b"\r\n\r\n"
_EVENT = re.compile(rb"^Event: ([^\r]*)\r$", re.M)
_ID = re.compile(rb"^(\w*(?:Uniqueid|Linkedid)): ([^\r]*?)\.(\d+)\r$", re.M)
"""``Uniqueid``, ``Linkedid``, ``DestUniqueid``... (``<system name>-<epoch>.<sequence>``);
a ``BridgeUniqueid`` is a UUID without a ``.<digits>`` tail and never matches."""
_TIMESTAMP = re.compile(rb"^Timestamp: (\d+\.\d+)\r$", re.M)


def load(path: Path) -> bytes:
    """The stream's bytes (call it in a thread: it reads and decompresses a file)."""
    with gzip.open(path, "rb") as stream:
        return stream.read()


def _field(frame: bytes, name: bytes) -> bytes | None:
    match = re.search(rb"^" + name + rb": ([^\r]*)\r$", frame, re.M)
    return match.group(1) if match else None


def calls(data: bytes) -> int:
    """Calls from the carrier: a ``Newchannel`` whose Uniqueid is its Linkedid, in
    ``from-trunk`` (one per caller channel; agent and Local channels join its linkedid)."""
    linkedids = set()
    for frame in data.split(_FRAME_END):
        if not frame.startswith(b"Event: Newchannel\r"):
            continue
        uniqueid = _field(frame, b"Uniqueid")
        if (
            uniqueid
            and uniqueid == _field(frame, b"Linkedid")
            and _field(frame, b"Context") in INBOUND_CONTEXTS
        ):
            linkedids.add(uniqueid)
    return len(linkedids)


def describe(data: bytes) -> dict[str, Any]:
    names = collections.Counter(m.decode() for m in _EVENT.findall(data))
    stamps = [float(m) for m in _TIMESTAMP.findall(data)]
    return {
        "bytes": len(data),
        "events": sum(names.values()),
        "calls": calls(data),
        "seconds": round(max(stamps) - min(stamps), 3) if stamps else 0.0,
        "event_names": dict(names.most_common()),
    }


@dataclass(frozen=True, slots=True)
class Template:
    """The stream cut around its ids and timestamps, so each repetition is a quick join."""

    pieces: tuple[bytes, ...]
    """Literal bytes; between piece i and i+1 comes ``holes[i]``."""
    holes: tuple[tuple[bytes, int] | float, ...]
    id_span: int
    """Sequence numbers one repetition uses: repetition k adds k * id_span to each."""
    time_span: float
    """Seconds one repetition lasts (plus one): repetition k is that much later."""
    events: int
    calls: int

    @classmethod
    def of(cls, data: bytes) -> Template:
        marks: list[tuple[int, int, tuple[bytes, int] | float]] = []
        sequences = [0]
        for m in _ID.finditer(data):
            sequences.append(int(m.group(3)))
            marks.append((m.start(2), m.end(3), (m.group(2), int(m.group(3)))))
        stamps = [0.0]
        for m in _TIMESTAMP.finditer(data):
            stamps.append(float(m.group(1)))
            marks.append((m.start(1), m.end(1), float(m.group(1))))
        marks.sort()
        pieces: list[bytes] = []
        holes: list[tuple[bytes, int] | float] = []
        at = 0
        for start, end, hole in marks:
            pieces.append(data[at:start])
            holes.append(hole)
            at = end
        pieces.append(data[at:])
        known = [s for s in stamps if s]
        return cls(
            pieces=tuple(pieces),
            holes=tuple(holes),
            id_span=max(sequences) + 1,
            time_span=(max(known) - min(known) + 1.0) if known else 0.0,
            events=len(_EVENT.findall(data)),
            calls=calls(data),
        )

    def repetition(self, k: int) -> bytes:
        """Repetition ``k`` (0 is the stream as recorded): every uniqueid and linkedid moved
        on by ``k * id_span`` (so every call is new), every timestamp by ``k * time_span``."""
        out = [self.pieces[0]]
        id_shift, time_shift = k * self.id_span, k * self.time_span
        for hole, piece in zip(self.holes, self.pieces[1:], strict=True):
            if isinstance(hole, float):
                out.append(b"%.6f" % (hole + time_shift))
            else:
                prefix, sequence = hole
                out.append(b"%s.%d" % (prefix, sequence + id_shift))
            out.append(piece)
        return b"".join(out)

    def repeated(self, times: int) -> bytes:
        return b"".join(self.repetition(k) for k in range(times))
