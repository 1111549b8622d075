"""The AMI wire format without I/O: bytes in, frames out; action fields checked on the way out.

A frame is the ``Key: Value`` lines between two blank lines, returned as a ``dict[str, str]``.
The decoder is incremental in two ways panoramisk 1.4 is not: a UTF-8 character split across
two TCP reads is decoded whole, and a frame split across reads is kept until its blank line.
It never raises on what a peer sends: bytes that are not UTF-8 become U+FFFD, lines that are
not ``Key: Value`` are counted and skipped, and a frame (or a line) longer than ``max_frame``
characters is dropped up to the next blank line, so a peer cannot grow our memory.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from contact_center.errors import AmiBadInput

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_FRAME_CHARS = 256 * 1024
"""A frame longer than this is garbage: the longest real ones (Command output) are far less."""
MAX_VALUE_CHARS = 1024
"""The longest field value we send in an action."""

Frame = dict[str, str]

_ACTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_RESERVED_FIELDS = frozenset({"action", "actionid"})
QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
INTERFACE = re.compile(r"PJSIP/[A-Za-z0-9_.-]{1,80}")


class AmiDecoder:
    """Turn the byte stream of one AMI connection into frames.

    ``banner`` is the version after ``Asterisk Call Manager/`` once the first line arrived.
    ``skipped_lines`` and ``dropped_frames`` count what was thrown away as garbage.
    """

    def __init__(self, max_frame: int = MAX_FRAME_CHARS) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_frame = max_frame
        self._partial = ""  # text after the last line break
        self._frame: Frame = {}
        self._size = 0
        self._discarding = False  # inside an oversized frame: skip to the next blank line
        self._first_line = True
        self.banner: str | None = None
        self.skipped_lines = 0
        self.dropped_frames = 0

    def feed(self, data: bytes) -> list[Frame]:
        """Decode ``data`` and return the frames it completed, in order.

        One loop, no call per line: this runs on every byte Asterisk sends (the ingest
        benchmark's profile), so the per-line work is kept to a partition and a dict store.
        """
        lines = (self._partial + self._text.decode(data)).split("\n")
        self._partial = lines.pop()
        if self._first_line and lines:
            self._first_line = False
            first = lines[0].removesuffix("\r")
            if first.startswith(BANNER_PREFIX):
                self.banner = first.removeprefix(BANNER_PREFIX).strip()
                del lines[0]
        frames: list[Frame] = []
        frame, size, discarding = self._frame, self._size, self._discarding
        max_frame = self._max_frame
        for line in lines:
            line = line.removesuffix("\r")
            key, sep, value = line.partition(":")
            if not sep and not line.strip():  # a blank line ends the frame
                if discarding:
                    discarding = False
                elif frame:
                    frames.append(frame)
                frame, size = {}, 0
                continue
            if discarding:
                continue
            key = key.strip()
            if not sep or not key or " " in key:
                self.skipped_lines += 1
                continue
            value = value.removeprefix(" ")
            size += len(line)
            if size > max_frame:
                self.dropped_frames += 1
                frame, size, discarding = {}, 0, True
                continue
            # A repeated key (Command ``Output:`` lines, ``ChanVariable: NAME=value``) keeps
            # every value, one per line: AMI values never contain a line break themselves.
            if key in frame:
                frame[key] = f"{frame[key]}\n{value}"
            else:
                frame[key] = value
        if len(self._partial) > max_frame:
            # One endless line: forget it and the frame it belongs to.
            self._partial = ""
            if not discarding:
                self.dropped_frames += 1
            frame, size, discarding = {}, 0, True
        self._frame, self._size, self._discarding = frame, size, discarding
        return frames


def decode_frames(data: bytes) -> list[Frame]:
    """Every frame in a complete capture (a fixture file, say); the last needs no blank line."""
    decoder = AmiDecoder()
    return decoder.feed(data + b"\r\n\r\n")


def field(frame: Mapping[str, str], name: str) -> str:
    """The value of ``name`` in ``frame``, matching the key without regard to case; '' if none."""
    value = frame.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, value in frame.items():
        if key.lower() == lowered:
            return value
    return ""


def check_action(name: str, fields: Mapping[str, str]) -> dict[str, str]:
    """Return the fields of action ``name`` ready to send, or raise :class:`AmiBadInput`.

    Values are text from strangers (caller names, agent names): a CR or LF would start a new
    header or a new action, so any control character is refused, as are oversized values,
    odd field names, and ``ActionID`` (the client owns it).
    """
    if not isinstance(name, str) or not _ACTION_NAME.fullmatch(name):
        raise AmiBadInput(f"bad AMI action name {name!r:.80}")
    checked = {"Action": name}
    for key, value in fields.items():
        if not _FIELD_NAME.fullmatch(key) or key.lower() in _RESERVED_FIELDS:
            raise AmiBadInput(f"bad AMI field name {key!r:.80} in action {name}")
        if not isinstance(value, str):
            raise AmiBadInput(f"AMI field {key} of action {name} must be text")
        if len(value) > MAX_VALUE_CHARS:
            raise AmiBadInput(
                f"AMI field {key} of action {name} is longer than {MAX_VALUE_CHARS} characters"
            )
        if any((ch < " " and ch != "\t") or ch == "\x7f" for ch in value):
            raise AmiBadInput(
                f"AMI field {key} of action {name} contains a line break or control character"
            )
        checked[key] = value
    return checked


def check_queue(queue: str) -> str:
    if not isinstance(queue, str) or not QUEUE_NAME.fullmatch(queue):
        raise AmiBadInput(f"bad queue name {queue!r:.80}: letters, digits, '_' or '-' only")
    return queue


def check_interface(interface: str) -> str:
    if not isinstance(interface, str) or not INTERFACE.fullmatch(interface):
        raise AmiBadInput(f"bad queue member interface {interface!r:.100}: want PJSIP/<endpoint>")
    return interface
