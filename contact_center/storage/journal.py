"""The bridge's journal: every event of a call in progress, on disk until the call is in the
database, so a bridge killed mid-traffic (or a database that is down) loses no call.

One append-only file per node. Three kinds of record, each length-prefixed:

- ``E`` an AMI event of a call (its linkedid and the event, pickled);
- ``C`` the call with this linkedid is in the database: its events are no longer needed.

A writer thread does the file work, so the event loop only hands records over
(``SimpleQueue.put``, no I/O). Records reach the kernel within microseconds of being handed
over: they survive the process being killed (SIGKILL), not the machine losing power (no
fsync per record; the file is fsynced when it is rewritten). When the file holds mostly
records of calls already in the database, the thread rewrites it with only the live ones.

At start, :func:`read_journal` gives back, in their order, the events of every call that is
not known to be in the database; the bridge feeds them to a fresh tracker, which finishes
the calls that had finished and keeps the others open until Asterisk says what became of
them. Writing a call twice is harmless: the database keeps one per (node, linkedid).
"""

from __future__ import annotations

import copyreg
import logging
import os
import pickle
import queue
import struct
import threading
from collections.abc import Iterator
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

_STOP = object()


def read_only(values: dict[str, str]) -> MappingProxyType[str, str]:
    return MappingProxyType(values)


def _mapping_proxy(proxy: MappingProxyType[str, str]) -> tuple[Any, tuple[dict[str, str]]]:
    return read_only, (dict(proxy),)


copyreg.pickle(MappingProxyType, _mapping_proxy)  # events keep channel variables read-only


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
            # our own file, mode 0600 in the bridge's state folder: written only by us
            event = pickle.loads(payload[1 + payload[0] :])  # noqa: S301
        except Exception as err:  # a journal from another version: say so, keep going
            log.warning("journal: an event of linkedid=%s cannot be read: %s", linkedid, err)
            continue
        events.append(event)
        calls.add(linkedid)
    return Recovered(events, len(calls))


class Journal:
    """Append-only journal of one node's calls in progress, written by its own thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    # --- the event loop's side: hand records over, no I/O ------------------------------------

    def event(self, linkedid: str, event: ev.AmiEvent) -> None:
        """Keep an event of the call ``linkedid`` until the call is committed."""
        key = linkedid.encode()[:255]
        self._queue.put(
            (key, bytes((len(key),)) + key + pickle.dumps(event, pickle.HIGHEST_PROTOCOL))
        )

    def committed(self, linkedid: str) -> None:
        """The call ``linkedid`` is in the database: its events may go."""
        self._queue.put((linkedid.encode()[:255], None))

    @property
    def failed(self) -> BaseException | None:
        """Why the writer thread stopped, if it did (the disk is full, the folder is gone)."""
        return self._failed

    # --- life -----------------------------------------------------------------------------------

    def start(self, replayed: list[ev.AmiEvent]) -> None:
        """Rewrite the file with the replayed events, then take new records (blocking: call
        it in a thread)."""
        live: dict[bytes, list[bytes]] = {}
        for event in replayed:
            channel = getattr(event, "channel", None)
            if channel is None:
                continue
            key = channel.linkedid.encode()[:255]
            payload = bytes((len(key),)) + key + pickle.dumps(event, pickle.HIGHEST_PROTOCOL)
            live.setdefault(key, []).append(_record(EVENT, payload))
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._rewrite(live)
        self._thread = threading.Thread(
            target=self._run, args=(live,), name=f"journal {self.path.name}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Write what was handed over, then stop (blocking: call it in a thread)."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    # --- the writer thread -----------------------------------------------------------------------

    def _rewrite(self, live: dict[bytes, list[bytes]]) -> int:
        temporary = self.path.with_suffix(".tmp")
        size = 0
        with _open_private(temporary, os.O_TRUNC) as out:
            for records in live.values():
                for record in records:
                    out.write(record)
                    size += len(record)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        return size

    def _run(self, live: dict[bytes, list[bytes]]) -> None:
        try:
            self._write(live)
        except BaseException as err:  # the bridge reads `failed` and says so
            self._failed = err
            log.error("journal %s stopped: %s", self.path, err)

    def _write(self, live: dict[bytes, list[bytes]]) -> None:
        live_bytes = sum(len(r) for records in live.values() for r in records)
        out = _open_private(self.path, os.O_APPEND)
        size = out.seek(0, os.SEEK_END)
        try:
            while True:
                item = self._queue.get()
                batch = [item]
                while not self._queue.empty() and len(batch) < 1024:
                    batch.append(self._queue.get_nowait())
                chunks: list[bytes] = []
                stop = False
                for entry in batch:
                    if entry is _STOP:
                        stop = True
                        continue
                    key, payload = entry
                    if payload is None:
                        chunks.append(_record(COMMITTED, key))
                        for record in live.pop(key, ()):
                            live_bytes -= len(record)
                    else:
                        record = _record(EVENT, payload)
                        chunks.append(record)
                        live.setdefault(key, []).append(record)
                        live_bytes += len(record)
                data = b"".join(chunks)
                if data:
                    out.write(data)
                    size += len(data)
                if stop:
                    return
                if size > COMPACT_MIN_BYTES and size > 4 * live_bytes:
                    out.close()
                    size = self._rewrite(live)
                    out = _open_private(self.path, os.O_APPEND)
        finally:
            out.close()
