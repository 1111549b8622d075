"""SIPp traffic against the sandbox: calls from the carrier trunk and agent phones.

SIPp runs inside the root (``chroot ROOT sipp ...``). Each call or phone gets its own work
directory in the root with its rendered scenario and its CSV injection file; strings from
outside (caller name and number, dialed number, passwords) only travel through the CSV,
never through the scenario text.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import shutil
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import quote

from contact_center.errors import SandboxError
from contact_center.sandbox import _proc

if TYPE_CHECKING:
    from contact_center.sandbox.asterisk import AsteriskSandbox

log = logging.getLogger(__name__)

SCENARIOS = Path(__file__).resolve().parent / "sipp"
ASTERISK_SIP = "127.0.0.1:5060"
TRUNK_IP = "127.0.0.2"
PHONE_IP = "127.0.0.1"
WORK_DIR = "tmp/contact-center-sipp"
_URI_USER_SAFE = "+-_.!~*'()&=$,?/"
_media_ports = itertools.cycle(range(30000, 39996, 4))


@dataclasses.dataclass(frozen=True, slots=True)
class CallResult:
    """What happened to one call, as seen by the caller.

    ``outcome``: ``caller-hangup`` (answered, caller sent BYE), ``agent-hangup`` (answered,
    agent side sent BYE), ``abandoned`` (caller sent CANCEL before an answer) or ``failed``.
    """

    call_id: str
    outcome: str
    answered: bool
    returncode: int
    duration: float
    errors: str = ""


def quote_display_name(name: str) -> str:
    """A SIP quoted-string for the From display name (control characters become spaces)."""
    cleaned = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in name)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uri_user(value: str) -> str:
    """Percent-encode anything that may not stand in the user part of a SIP URI."""
    return quote(value, safe=_URI_USER_SAFE) or "anonymous"


def csv_line(*fields: str) -> str:
    """One SIPp injection line. SIPp has no quoting, so ';' and line breaks cannot pass."""
    for field in fields:
        if any(c in field for c in ";\r\n"):
            raise ValueError(f"SIPp CSV fields cannot contain ';' or line breaks: {field!r}")
    return "".join(f"{field};" for field in fields) + "\n"


_TEMPLATES = {path.name: path.read_text(encoding="utf-8") for path in SCENARIOS.glob("*.xml")}
"""Read once at import, so rendering never touches the disk from the event loop."""


def render_scenario(name: str, **values: str) -> str:
    """The scenario with its ``{{name}}`` placeholders (numbers, attributes) filled in."""
    text = _TEMPLATES[name]
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise SandboxError(
            f"scenario {name}: unfilled placeholder near {text[text.index('{{') :][:30]!r}"
        )
    return text


class _WorkDir:
    """A directory inside the root for one SIPp run; paths as seen from inside and outside."""

    def __init__(self, root: Path, kind: str) -> None:
        self.name = f"{WORK_DIR}/{kind}-{uuid.uuid4().hex[:12]}"
        self.host = root / self.name
        self.inside = "/" + self.name

    def create(self, files: dict[str, str]) -> None:
        self.host.mkdir(parents=True, mode=0o700)
        for name, text in files.items():
            (self.host / name).write_text(text, encoding="utf-8")

    def read(self, name: str) -> str:
        try:
            return (self.host / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def remove(self) -> None:
        shutil.rmtree(self.host, ignore_errors=True)


def _sipp_args(root: Path, work: _WorkDir, scenario: str, *extra: str) -> list[str]:
    return [
        "chroot",
        str(root),
        "sipp",
        *extra,
        "-sf",
        f"{work.inside}/{scenario}",
        "-nostdin",
        "-aa",
        "-mp",
        str(next(_media_ports)),
        "-trace_err",
        "-error_file",
        f"{work.inside}/errors.log",
        "-trace_logs",
        "-log_file",
        f"{work.inside}/calls.log",
    ]


async def place_call(
    sandbox: AsteriskSandbox,
    *,
    caller_number: str,
    caller_name: str,
    dialed: str = "800100200",
    hold_seconds: float = 5.0,
    timeout: float = 60.0,  # noqa: ASYNC109 - the SIP answer wait, handed to SIPp
    hangup_after: float | None = None,
) -> CallResult:
    """Call from the trunk (127.0.0.2) and wait for the outcome.

    The caller waits for an answer for ``hangup_after`` seconds if given (then CANCELs: an
    abandoned call), else until ``timeout``. Once answered it talks ``hold_seconds`` and
    sends BYE, unless the agent side hangs up first.
    """
    call_tag = f"cc-{uuid.uuid4().hex[:16]}"
    call_id = f"{call_tag}-1@{TRUNK_IP}"
    ring = hangup_after if hangup_after is not None else timeout
    work = _WorkDir(sandbox.root, "call")
    files = {
        "caller.xml": render_scenario(
            "caller.xml",
            ring_ms=str(max(1, int(ring * 1000))),
            hold_ms=str(max(1, int(hold_seconds * 1000))),
        ),
        "call.csv": "SEQUENTIAL\n"
        + csv_line(uri_user(caller_number), quote_display_name(caller_name), uri_user(dialed)),
    }
    await asyncio.to_thread(work.create, files)
    args = _sipp_args(sandbox.root, work, "caller.xml", ASTERISK_SIP)
    args += ["-inf", f"{work.inside}/call.csv", "-i", TRUNK_IP, "-m", "1", "-l", "1"]
    args += ["-cid_str", f"{call_tag}-%u@%s"]
    args += ["-timeout", f"{int(timeout + hold_seconds + 10)}s", "-timeout_error"]
    started = time.monotonic()
    try:
        done = await _proc.run(*args, limit=timeout + hold_seconds + 20, check=False)
        calls_log = await asyncio.to_thread(work.read, "calls.log")
        errors = await asyncio.to_thread(work.read, "errors.log")
    finally:
        await asyncio.to_thread(work.remove)
    outcome = "failed"
    for line in calls_log.splitlines():
        if "CC-RESULT " in line:
            outcome = line.split("CC-RESULT ", 1)[1].strip()
    if done.returncode != 0 and outcome != "abandoned":
        outcome = "failed"
    result = CallResult(
        call_id=call_id,
        outcome=outcome,
        answered=outcome in ("caller-hangup", "agent-hangup"),
        returncode=done.returncode,
        duration=time.monotonic() - started,
        errors=(errors.strip() or done.stderr.strip())[-2000:],
    )
    log.info("sandbox call %s from %s: %s", call_id, caller_number, outcome)
    return result


class AgentPhone:
    """A registered SIP phone (SIPp) that answers every call it gets.

    Rings ``answer_after`` seconds, answers, then hangs up after ``talk_seconds`` (or waits
    for the other side's BYE when None). A CANCEL while ringing is handled.
    """

    def __init__(
        self,
        sandbox: AsteriskSandbox,
        endpoint: str,
        port: int,
        *,
        answer_after: float = 1.0,
        talk_seconds: float | None = 3.0,
    ) -> None:
        self.sandbox = sandbox
        self.endpoint = endpoint
        self.port = port
        self.answer_after = answer_after
        self.talk_seconds = talk_seconds
        self._work = _WorkDir(sandbox.root, f"phone-{endpoint}")
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.endpoint}"

    async def start(self) -> None:
        """Listen for calls, then REGISTER; raise SandboxError if registration fails."""
        passwords = await asyncio.to_thread(self.sandbox.agent_secrets)
        if self.endpoint not in passwords:
            raise SandboxError(f"no SIP password for {self.endpoint!r}")
        talk_wait = (
            f'timeout="{max(1, int(self.talk_seconds * 1000))}" ontimeout="agent_bye"'
            if self.talk_seconds is not None
            else ""
        )
        files = {
            "agent.xml": render_scenario(
                "agent.xml",
                answer_ms=str(max(1, int(self.answer_after * 1000))),
                talk_wait=talk_wait,
            ),
            "register.xml": render_scenario("register.xml"),
            "register.csv": "SEQUENTIAL\n"
            + csv_line(self.endpoint, passwords[self.endpoint], str(self.port), "3600"),
            "unregister.csv": "SEQUENTIAL\n"
            + csv_line(self.endpoint, passwords[self.endpoint], str(self.port), "0"),
        }
        await asyncio.to_thread(self._work.create, files)
        args = _sipp_args(self.sandbox.root, self._work, "agent.xml")
        args += ["-i", PHONE_IP, "-p", str(self.port)]
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.sleep(0.2)
            if self._proc.returncode is not None:
                raise SandboxError(f"agent phone {self.endpoint} SIPp exited at start")
            await self._register("register.csv")
        except BaseException:
            await self.stop()
            raise
        log.info("agent phone %s registered from %s:%s", self.endpoint, PHONE_IP, self.port)

    async def stop(self) -> None:
        """Unregister (best effort), stop SIPp and remove the work directory."""
        if self._proc is not None and self._proc.returncode is None:
            try:
                await self._register("unregister.csv")
            except SandboxError as err:
                log.warning("agent phone %s did not unregister: %s", self.endpoint, err)
        if self._proc is not None:
            await _proc.stop_process(self._proc)
            self._proc = None
        await asyncio.to_thread(self._work.remove)

    async def answered_calls(self) -> int:
        """How many calls this phone has answered so far."""
        text = await asyncio.to_thread(self._work.read, "calls.log")
        return text.count("CC-AGENT answered")

    async def _register(self, csv_name: str) -> None:
        args = _sipp_args(self.sandbox.root, self._work, "register.xml", ASTERISK_SIP)
        args[args.index("-error_file") + 1] = f"{self._work.inside}/register-errors.log"
        args[args.index("-log_file") + 1] = f"{self._work.inside}/register.log"
        args += ["-inf", f"{self._work.inside}/{csv_name}", "-i", PHONE_IP, "-m", "1"]
        args += ["-timeout", "10s", "-timeout_error"]
        done = await _proc.run(*args, limit=15, check=False)
        if done.returncode != 0:
            errors = await asyncio.to_thread(self._work.read, "register-errors.log")
            raise SandboxError(
                f"{self.endpoint} REGISTER failed (sipp exit {done.returncode}): "
                f"{(errors or done.stderr).strip()[-1000:]}"
            )

    async def __aenter__(self) -> AgentPhone:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
