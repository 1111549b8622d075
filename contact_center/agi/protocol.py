"""FastAGI as plain data: complete lines in, typed objects out, commands out as bytes.

No sockets and no awaits here (the model is h11). The caller hands over *complete* lines
(everything up to and including ``\\n``); only then are they decoded, as UTF-8 with
``errors="replace"``, so a multi-byte character split across two TCP reads can never be
torn in half.

Command values come from strangers (caller names). ``quote`` makes any text safe as one
AGI argument: control characters (CR, LF and NUL among them, which would end the command
early and let the rest run as a second command) become a space, ``\\`` and ``"`` are
escaped, and the result is bounded in length.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl, urlsplit

from contact_center.errors import AgiHangup, AgiProtocolError

MAX_ENV_LINES = 200
"""Asterisk sends about 25 ``agi_*`` lines plus one per AGI() argument."""
MAX_USAGE_LINES = 200
"""Bound on the continuation lines of a ``520-`` usage answer."""
MAX_NAME_LENGTH = 80
MAX_VALUE_BYTES = 1024
"""Bound on one quoted value, in UTF-8 bytes, before quoting."""
MAX_COMMAND_BYTES = 2047
"""Asterisk reads a command into a 2048-byte buffer (``AGI_BUF_LEN``); a longer line would be
cut and its tail read as a second command, so we never send one."""
VERBOSE_LEVELS = range(1, 5)

HANGUP_LINE = "HANGUP"
UNKNOWN = "unknown"

_ENV_KEY = re.compile(r"agi_[a-z0-9_]+")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RESPONSE = re.compile(r"(?P<code>[0-9]{3})(?P<sep>[ -])(?P<rest>.*)", re.DOTALL)
_RESULT = re.compile(r"result=(?P<result>\S*)\s*(?P<data>.*)", re.DOTALL)


def decode_line(line: bytes) -> str:
    """Decode one complete line and drop its terminator (``\\n`` or ``\\r\\n``)."""
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", errors="replace")


# --- the environment -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class AgiRequest:
    """The ``agi_*`` environment Asterisk sends when it opens a FastAGI connection."""

    env: Mapping[str, str]

    def _known(self, key: str) -> str:
        value = self.env.get(key, "")
        return "" if value == UNKNOWN else value

    def _target(self) -> tuple[str, str]:
        # agi_network_script is everything after "host:port/", query string included.
        script = self.env.get("agi_network_script")
        if script is not None:
            path, _, query = script.partition("?")
            return path.strip("/"), query
        url = urlsplit(self.env.get("agi_request", ""))
        return url.path.strip("/"), url.query

    @property
    def script(self) -> str:
        """The path after ``host:port/`` without its query string, e.g. ``route``."""
        return self._target()[0]

    @property
    def query(self) -> Mapping[str, str]:
        """``?a=b&c=d`` of the AGI URL as a mapping; the last of repeated keys wins."""
        return MappingProxyType(dict(parse_qsl(self._target()[1], keep_blank_values=True)))

    @property
    def channel(self) -> str:
        return self.env.get("agi_channel", "")

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def caller_num(self) -> str:
        """The caller's number; empty when Asterisk says ``unknown``."""
        return self._known("agi_callerid")

    @property
    def caller_name(self) -> str:
        """The caller's name; empty when Asterisk says ``unknown``."""
        return self._known("agi_calleridname")

    @property
    def dnid(self) -> str:
        """The dialed number; empty when Asterisk says ``unknown``."""
        return self._known("agi_dnid")

    @property
    def extension(self) -> str:
        return self.env.get("agi_extension", "")

    @property
    def context(self) -> str:
        return self.env.get("agi_context", "")

    @property
    def args(self) -> tuple[str, ...]:
        """``agi_arg_1`` .. ``agi_arg_N``, in order, up to the first missing one."""
        found: list[str] = []
        while (value := self.env.get(f"agi_arg_{len(found) + 1}")) is not None:
            found.append(value)
        return tuple(found)


class EnvironmentParser:
    """Feed complete lines until the blank line that ends the environment.

    ``feed_line`` returns None while more lines are expected and the ``AgiRequest`` once the
    block is complete. Anything that is not ``agi_<name>: <value>``, a repeated key, or more
    than ``max_lines`` lines raises ``AgiProtocolError``.
    """

    def __init__(self, max_lines: int = MAX_ENV_LINES) -> None:
        self._max_lines = max_lines
        self._env: dict[str, str] = {}
        self._lines = 0
        self._done = False

    def feed_line(self, line: bytes) -> AgiRequest | None:
        if self._done:
            raise AgiProtocolError("the AGI environment is already complete")
        text = decode_line(line)
        if not text:
            self._done = True
            return AgiRequest(env=MappingProxyType(dict(self._env)))
        self._lines += 1
        if self._lines > self._max_lines:
            raise AgiProtocolError(f"AGI environment longer than {self._max_lines} lines")
        key, sep, value = text.partition(":")
        if not sep or not _ENV_KEY.fullmatch(key):
            raise AgiProtocolError(f"not an AGI environment line: {text[:80]!r}")
        if key in self._env:
            raise AgiProtocolError(f"AGI environment repeats {key}")
        self._env[key] = value[1:] if value.startswith(" ") else value
        return None


def parse_environment(lines: Iterable[bytes], max_lines: int = MAX_ENV_LINES) -> AgiRequest:
    """Parse a whole environment block given as complete lines (blank line included)."""
    parser = EnvironmentParser(max_lines)
    for line in lines:
        request = parser.feed_line(line)
        if request is not None:
            return request
    raise AgiProtocolError("the AGI environment ended without its blank line")


# --- responses -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class AgiResponse:
    """One answer to a command.

    ``200 result=1 (vip)`` gives ``code=200, result="1", data="vip"``; an error such as
    ``510 Invalid or unknown command`` gives ``code=510, result="", data=<its text>``; a
    multi-line ``520`` carries all its lines in ``data``, joined by ``\\n``.
    """

    code: int
    result: str
    data: str

    @property
    def ok(self) -> bool:
        return self.code == 200


@dataclasses.dataclass(frozen=True, slots=True)
class Hangup:
    """Asterisk sent ``HANGUP``: the channel is gone (AGISIGHUP)."""


def _data(rest: str) -> str:
    rest = rest.strip()
    if rest.startswith("(") and rest.endswith(")"):
        return rest[1:-1]
    return rest


def parse_response(line: bytes | str) -> AgiResponse:
    """Parse one single-line response (``200 result=...`` or ``5xx <text>``)."""
    text = decode_line(line) if isinstance(line, bytes) else line.rstrip("\r\n")
    match = _RESPONSE.fullmatch(text)
    if match is None or match["sep"] != " ":
        raise AgiProtocolError(f"not an AGI response: {text[:80]!r}")
    code, rest = int(match["code"]), match["rest"]
    if code != 200:
        return AgiResponse(code=code, result="", data=rest.strip())
    result = _RESULT.fullmatch(rest)
    if result is None:
        raise AgiProtocolError(f"AGI response without result=: {text[:80]!r}")
    return AgiResponse(code=200, result=result["result"], data=_data(result["data"]))


class ResponseParser:
    """Feed complete lines; get an ``AgiResponse``, a ``Hangup``, or None (need more lines).

    A ``520-...`` line opens a usage text that runs until ``520 End of proper usage.``;
    it comes back as one response with every line in ``data``.
    """

    def __init__(self, max_usage_lines: int = MAX_USAGE_LINES) -> None:
        self._max_usage_lines = max_usage_lines
        self._usage: list[str] | None = None

    def feed_line(self, line: bytes) -> AgiResponse | Hangup | None:
        text = decode_line(line)
        if self._usage is not None:
            if text.startswith("520 "):
                self._usage.append(text[4:])
                data, self._usage = "\n".join(self._usage), None
                return AgiResponse(code=520, result="", data=data)
            if len(self._usage) >= self._max_usage_lines:
                raise AgiProtocolError(f"AGI usage text longer than {self._max_usage_lines} lines")
            self._usage.append(text)
            return None
        if text == HANGUP_LINE:
            return Hangup()
        if text.startswith("520-"):
            self._usage = [text[4:]]
            return None
        return parse_response(text)


def check_response(response: AgiResponse, command: str) -> AgiResponse:
    """Return a ``200`` response; turn ``511`` into ``AgiHangup``, other codes into errors."""
    if response.code == 200:
        return response
    if response.code == 511:
        raise AgiHangup(f"{command}: {response.data}")
    raise AgiProtocolError(f"{command}: {response.code} {response.data}")


# --- commands --------------------------------------------------------------------------------


def check_name(name: str) -> str:
    """A channel variable name: ``[A-Za-z_][A-Za-z0-9_]*``, at most 80 characters.

    Anything else is refused, ``FUNC(...)`` names in particular: SET VARIABLE on one would
    call a dialplan function.
    """
    if len(name) > MAX_NAME_LENGTH or not _VARIABLE_NAME.fullmatch(name):
        raise ValueError(f"not a channel variable name: {name[:MAX_NAME_LENGTH]!r}")
    return name


def quote(value: str, max_bytes: int = MAX_VALUE_BYTES) -> str:
    """``value`` as one double-quoted AGI argument.

    Control characters (CR, LF, NUL, tab, ... and DEL) become a space, so no value can end
    the command line and smuggle in another; ``\\`` and ``"`` are backslash-escaped, the way
    Asterisk's argument parser reads them. A value longer than ``max_bytes`` in UTF-8 is
    refused with ``ValueError``: cutting it would silently change data.
    """
    clean = _CONTROL.sub(" ", value)
    if len(clean.encode("utf-8")) > max_bytes:
        raise ValueError(f"AGI value longer than {max_bytes} bytes")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command(text: str) -> bytes:
    """One command line as bytes, newline added; refused if it would not be one line."""
    if _CONTROL.search(text):
        raise ValueError("an AGI command must not contain control characters")
    data = text.encode("utf-8") + b"\n"
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    return data


def check_command(line: bytes) -> bytes:
    """A pre-formatted command line: exactly one line ending in ``\\n``, bounded, no NUL/CR."""
    body = line[:-1] if line.endswith(b"\n") else b""
    if not body or any(byte in body for byte in b"\n\r\x00"):
        raise ValueError("an AGI command must be exactly one line ending in \\n")
    if len(line) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    return line


def set_variable(name: str, value: str) -> bytes:
    return command(f"SET VARIABLE {check_name(name)} {quote(value)}")


def get_variable(name: str) -> bytes:
    return command(f"GET VARIABLE {check_name(name)}")


def get_full_variable(expression: str) -> bytes:
    """``GET FULL VARIABLE``: Asterisk *evaluates* ``expression`` (``${...}``, functions).

    The expression is quoted like any value, but quoting cannot make it harmless: never
    build it from caller-supplied text.
    """
    return command(f"GET FULL VARIABLE {quote(expression)}")


def verbose(message: str, level: int = 1) -> bytes:
    if level not in VERBOSE_LEVELS:
        raise ValueError(f"VERBOSE level must be 1 to 4, not {level}")
    return command(f"VERBOSE {quote(message)} {level}")
