"""The bridge's journal: every event of a call in progress, on disk until the call is in the
database, so a bridge killed mid-traffic (or a database that is down) loses no call.

One append-only file per node. Three kinds of record, each length-prefixed:

- ``E`` an AMI event of a call (its linkedid and the event's fields, marshalled);
- ``C`` the call with this linkedid is in the database: its events are no longer needed.

A writer thread does the file work, so the event loop only encodes records and hands them
over, once per turn of the loop. They reach the kernel within a turn of the loop (well under
a millisecond when busy): they survive the process being killed (SIGKILL), not the machine
losing power (no fsync per record; the file is fsynced when it is rewritten). When the file
holds mostly records of calls already in the database, it is rewritten with only the live
ones.

At start, :func:`read_journal` gives back, in their order, the events of every call that is
not known to be in the database; the bridge feeds them to a fresh tracker, which finishes
the calls that had finished and keeps the others open until Asterisk says what became of
them. Writing a call twice is harmless: the database keeps one per (node, linkedid).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import marshal
import operator
import os
import queue
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from contact_center.ami import events as ev
from contact_center.errors import StorageError

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<IB")  # payload length, kind
EVENT = ord("E")
COMMITTED = ord("C")
COMPACT_MIN_BYTES = 8 * 1024 * 1024
"""The file is rewritten when it is bigger than this and four times its live records."""

_NO_VARIABLES: Mapping[str, str] = MappingProxyType({})


_SNAPSHOT_FIELDS = tuple(f.name for f in dataclasses.fields(ev.ChannelSnapshot))
_VARIABLES_AT = _SNAPSHOT_FIELDS.index("variables")
_EVENT_TYPES: dict[str, type[ev.AmiEvent]] = {
    cls.__name__: cls
    for cls in vars(ev).values()
    if isinstance(cls, type) and issubclass(cls, ev.AmiEvent) and dataclasses.is_dataclass(cls)
}
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _EVENT_TYPES.values()
}


_SNAPSHOT_VALUES = operator.attrgetter(*_SNAPSHOT_FIELDS)


def _values_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A C-level getter of every field's value as a tuple (attrgetter of one name returns
    the value itself: wrapped)."""
    if len(names) == 1:
        single = operator.attrgetter(names[0])
        return lambda event: (single(event),)
    return operator.attrgetter(*names)


_GETTERS = {cls: _values_getter(names) for cls, names in _FIELDS.items()}
_SNAPSHOTS_AT: dict[type, tuple[int, ...]] = {
    cls: tuple(i for i, f in enumerate(dataclasses.fields(cls)) if "ChannelSnapshot" in str(f.type))
    for cls in _EVENT_TYPES.values()
}
"""Where each event type holds channel snapshots (``ChannelSnapshot`` or ``... | None``)."""


def _plain_snapshot(snapshot: ev.ChannelSnapshot) -> tuple[Any, ...]:
    values = list(_SNAPSHOT_VALUES(snapshot))
    variables = values[_VARIABLES_AT]
    values[_VARIABLES_AT] = dict(variables) if variables else None
    return ("\0snapshot", *values)


def encode_event(event: ev.AmiEvent) -> bytes:
    """An event as bytes: its type's name and its fields' values (marshal: plain values only,
    much cheaper than pickle, read back only by `decode_event` of this version). This runs
    for every event of a call: the fields are read by C-level getters, not a loop."""
    cls = type(event)
    values: tuple[Any, ...] | list[Any] = _GETTERS[cls](event)
    snapshots_at = _SNAPSHOTS_AT[cls]
    if snapshots_at:
        values = list(values)
        for i in snapshots_at:
            if values[i] is not None:
                values[i] = _plain_snapshot(values[i])
    return marshal.dumps((cls.__name__, tuple(values)))


def _typed(value: Any) -> Any:
    if type(value) is tuple and value and value[0] == "\0snapshot":
        values = list(value[1:])
        variables = values[_VARIABLES_AT]
        values[_VARIABLES_AT] = MappingProxyType(variables) if variables else _NO_VARIABLES
        return ev.ChannelSnapshot(**dict(zip(_SNAPSHOT_FIELDS, values, strict=True)))
    return value


def decode_event(data: bytes) -> ev.AmiEvent:
    # our own file (mode 0600, the bridge's state folder); marshal runs no code on load
    name, values = marshal.loads(data)  # noqa: S302
    cls = _EVENT_TYPES[name]
    return cls(**{n: _typed(v) for n, v in zip(_FIELDS[cls], values, strict=True)})


def _open_private(path: Path, mode: int) -> BinaryIO:
    """Open for writing, unbuffered, readable by this user only (it holds callers' data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o600)
    return os.fdopen(fd, "wb", buffering=0)


def _record(kind: int, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), kind) + payload


def _records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Every whole record; a torn last one (the process died mid-write) is left out."""
    offset, size = 0, len(data)
    while offset + _HEADER.size <= size:
        length, kind = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        if start + length > size:
            log.warning("journal: a torn last record (%d bytes) is left out", size - offset)
            return
        yield kind, data[start : start + length]
        offset = start + length


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a journal held: the events of calls not known to be in the database, in order."""

    events: list[ev.AmiEvent]
    calls: int


def read_journal(path: Path) -> Recovered:
    """The events to replay after a restart (blocking: call it in a thread)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Recovered([], 0)
    except OSError as err:
        raise StorageError(f"cannot read the journal {path}: {err}") from err
    committed: set[str] = set()
    entries: list[tuple[str, bytes]] = []
    for kind, payload in _records(data):
        if kind == COMMITTED:
            committed.add(payload.decode())
        elif kind == EVENT:
            linkedid_length = payload[0]
            entries.append((payload[1 : 1 + linkedid_length].decode(), payload))
    events: list[ev.AmiEvent] = []
    calls: set[str] = set()
    for linkedid, payload in entries:
        if linkedid in committed:
            continue
        try:
            event = decode_event(payload[1 + payload[0] :])
        except (ValueError, EOFError, TypeError, KeyError) as err:  # another version's
            log.warning("journal: an event of linkedid=%s cannot be read: %s", linkedid, err)
            continue
        events.append(event)
        calls.add(linkedid)
    return Recovered(events, len(calls))


class Journal:
    """Append-only journal of one node's calls in progress.

    The event loop encodes records and hands them over once per turn of the loop (one
    ``SimpleQueue.put`` however many records); a thread of its own writes them. The loop also
    keeps the live records (those of calls not yet committed), so it can tell the thread to
    rewrite the file with only those when it holds mostly dead ones."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buffer: list[bytes] = []
        self._live: dict[str, list[bytes]] = {}
        self._live_bytes = 0
        self._file_bytes = 0

    # --- the event loop's side: encode and hand over, no I/O ---------------------------------

    def event(self, linkedid: str, event: ev.AmiEvent) -> None:
        """Keep an event of the call ``linkedid`` until the call is committed."""
        record = _event_record(linkedid, event)
        live = self._live.get(linkedid)
        if live is None:
            self._live[linkedid] = [record]
        else:
            live.append(record)
        self._live_bytes += len(record)
        self._add(record)

    def committed(self, linkedid: str) -> None:
        """The call ``linkedid`` is in the database: its events may go."""
        records = self._live.pop(linkedid, None)
        if records:
            self._live_bytes -= sum(len(r) for r in records)
        self._add(_record(COMMITTED, linkedid.encode()[:255]))

    def _add(self, record: bytes) -> None:
        if not self._buffer and self._loop is not None:
            self._loop.call_soon(self._hand_over)
        self._buffer.append(record)

    def _hand_over(self) -> None:
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._file_bytes += len(data)
        if self._file_bytes > COMPACT_MIN_BYTES and self._file_bytes > 4 * self._live_bytes:
            # the live records include everything just added that still matters
            snapshot = b"".join(r for records in self._live.values() for r in records)
            self._file_bytes = len(snapshot)
            self._queue.put(("rewrite", snapshot))
        else:
            self._queue.put(("append", data))

    @property
    def writing(self) -> bool:
        """False once the writer thread has stopped (the disk failed): calls in progress are
        then no longer kept, and the bridge is not ready."""
        return self._thread is not None and self._thread.is_alive()

    # --- life -----------------------------------------------------------------------------------

    async def start(self, replayed: list[ev.AmiEvent]) -> None:
        """Rewrite the file with the replayed events (they are live again), then take new
        records from this event loop."""
        self._loop = asyncio.get_running_loop()
        for event in replayed:
            channel = getattr(event, "channel", None)
            if channel is not None:
                record = _event_record(channel.linkedid, event)
                self._live.setdefault(channel.linkedid, []).append(record)
                self._live_bytes += len(record)
        snapshot = b"".join(r for records in self._live.values() for r in records)
        await asyncio.to_thread(self._prepare, snapshot)
        self._file_bytes = len(snapshot)
        self._thread = threading.Thread(
            target=self._run, name=f"journal {self.path.name}", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        """Write what was handed over, then stop the thread."""
        self._hand_over()
        if self._thread is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    # --- the writer thread -----------------------------------------------------------------------

    def _prepare(self, snapshot: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._rewrite(snapshot)

    def _rewrite(self, snapshot: bytes) -> None:
        temporary = self.path.with_suffix(".tmp")
        with _open_private(temporary, os.O_TRUNC) as out:
            out.write(snapshot)
            os.fsync(out.fileno())
        os.replace(temporary, self.path)

    def _run(self) -> None:
        try:
            self._write()
        except OSError as err:  # the disk is full, the folder is gone: say it loudly, once
            log.error(
                "journal %s stopped (%s): calls in progress are no longer kept on disk",
                self.path,
                err,
            )

    def _write(self) -> None:
        out = _open_private(self.path, os.O_APPEND)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                what, data = item
                if what == "append":
                    out.write(data)
                else:
                    out.close()
                    self._rewrite(data)
                    out = _open_private(self.path, os.O_APPEND)
        finally:
            out.close()


def _event_record(linkedid: str, event: ev.AmiEvent) -> bytes:
    key = linkedid.encode()[:255]
    return _record(EVENT, bytes((len(key),)) + key + encode_event(event))
