"""Start, stop and query Asterisk running in the sandbox root (plain chroot, as root)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import signal
from pathlib import Path

from contact_center.errors import SandboxError
from contact_center.sandbox import _proc, config
from contact_center.sandbox import root as rootfs
from contact_center.settings import Settings

log = logging.getLogger(__name__)

BOOT_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 10.0
_VERSION = re.compile(r"Asterisk (\S+)")
_UPTIME = re.compile(r"System uptime:\s*(\d+)")


@dataclasses.dataclass(frozen=True, slots=True)
class SandboxStatus:
    running: bool
    pid: int | None = None
    version: str | None = None
    uptime_seconds: int | None = None


class AsteriskSandbox:
    """Asterisk 22 from Debian sid in a chroot, configured from this checkout."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.root = settings.sandbox_root.absolute()
        self.secret_dir = (settings.state_dir / "sandbox").absolute()

    # --- lifecycle ---------------------------------------------------------------------------

    async def build(self) -> Path:
        """Debootstrap the root if it is not there yet (cached at settings.sandbox_root)."""
        return await rootfs.build_root(self._settings)

    async def up(self) -> None:
        """Install config and secrets, (re)start Asterisk and wait until it is fully booted."""
        await self.build()
        if await self._pid() is not None:
            await self.down()
        await asyncio.to_thread(rootfs.prepare_root, self.root)
        secrets = await asyncio.to_thread(config.load_or_create_secrets, self.secret_dir)
        await asyncio.to_thread(config.install_config, self.root, secrets)
        await self._start()

    async def down(self) -> None:
        """Stop Asterisk (core stop now); kill it if it does not go in time."""
        pid = await self._pid()
        if pid is None:
            return
        log.info("stopping sandbox Asterisk (pid %s)", pid)
        with contextlib.suppress(SandboxError):
            await self._asterisk_rx("core stop now", check=False)
        if await self._wait_gone(pid, STOP_TIMEOUT):
            return
        log.warning("sandbox Asterisk (pid %s) did not stop, terminating it", pid)
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if await self._wait_gone(pid, wait):
                return
        raise SandboxError(f"sandbox Asterisk (pid {pid}) survived SIGKILL")

    async def restart(self) -> None:
        """Stop and start Asterisk again with the same config and secrets."""
        await self.down()
        await self._start()

    async def status(self) -> SandboxStatus:
        pid = await self._pid()
        if pid is None:
            return SandboxStatus(running=False)
        version = uptime = None
        with contextlib.suppress(SandboxError):
            match = _VERSION.search(await self.cli("core show version"))
            version = match.group(1) if match else None
            match = _UPTIME.search(await self.cli("core show uptime seconds"))
            uptime = int(match.group(1)) if match else None
        return SandboxStatus(running=True, pid=pid, version=version, uptime_seconds=uptime)

    async def cli(self, command: str) -> str:
        """Run one Asterisk CLI command (``asterisk -rx``) and return its output."""
        done = await self._asterisk_rx(command, check=True)
        return done.stdout

    # --- paths and secrets -------------------------------------------------------------------

    def ami_secret_file(self) -> Path:
        """The AMI secret (mode 0600), for CC_AMI_SECRET_FILE."""
        return self.secret_dir / "ami_secret"

    def agent_secrets(self) -> dict[str, str]:
        """Endpoint name -> SIP password of the agent phones (reads a file: call off-loop)."""
        return config.read_agent_secrets(self.secret_dir)

    def queue_log(self) -> Path:
        return self.root / "var/log/asterisk/queue_log"

    def cdr_csv(self) -> Path:
        return self.root / "var/log/asterisk/cdr-csv/Master.csv"

    def messages_log(self) -> Path:
        return self.root / "var/log/asterisk/messages.log"

    # --- internals ---------------------------------------------------------------------------

    async def _start(self) -> None:
        await asyncio.to_thread(_remove_stale_runfiles, self.root)
        log.info("starting sandbox Asterisk in %s", self.root)
        # Asterisk daemonizes; its own session keeps it out of our process group.
        launcher = await asyncio.create_subprocess_exec(
            "chroot",
            str(self.root),
            "/usr/sbin/asterisk",
            "-U",
            "root",
            "-G",
            "root",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = await asyncio.wait_for(launcher.wait(), BOOT_TIMEOUT)
        except TimeoutError as err:
            await _proc.stop_process(launcher)
            raise SandboxError(f"asterisk did not daemonize{await self._log_tail()}") from err
        if code != 0:
            raise SandboxError(f"asterisk exited with {code}{await self._log_tail()}")
        await self._wait_booted()

    async def _wait_booted(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BOOT_TIMEOUT
        while True:
            # fails at once while the control socket is not there yet
            done = await self._asterisk_rx("core waitfullybooted", check=False)
            if done.returncode == 0 and "fully booted" in done.stdout:
                pid = await self._pid()
                log.info("sandbox Asterisk fully booted (pid %s)", pid)
                return
            if loop.time() > deadline:
                raise SandboxError(
                    f"asterisk not fully booted after {BOOT_TIMEOUT:g} s{await self._log_tail()}"
                )
            if loop.time() > deadline - BOOT_TIMEOUT + 2 and await self._pid() is None:
                raise SandboxError(f"asterisk died while starting{await self._log_tail()}")
            await asyncio.sleep(0.1)

    async def _asterisk_rx(self, command: str, *, check: bool) -> _proc.Completed:
        return await _proc.run(
            "chroot",
            str(self.root),
            "/usr/sbin/asterisk",
            "-rx",
            command,
            limit=CLI_TIMEOUT,
            check=check,
        )

    async def _pid(self) -> int | None:
        return await asyncio.to_thread(find_asterisk_pid, self.root)

    async def _wait_gone(self, pid: int, within: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if not await asyncio.to_thread(_alive, pid):
                return True
            await asyncio.sleep(0.1)
        return False

    async def _log_tail(self, lines: int = 30) -> str:
        tail = await asyncio.to_thread(_tail, self.messages_log(), lines)
        return f"; last lines of {self.messages_log()}:\n{tail}" if tail else ""


def find_asterisk_pid(root: Path) -> int | None:
    """The pid of the Asterisk daemon whose root directory is ``root``, if one runs."""
    real_root = os.path.realpath(root)
    pid_file = root / "run/asterisk/asterisk.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text(encoding="ascii").strip())
        if _is_our_asterisk(pid, real_root):
            return pid
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and _is_our_asterisk(int(entry.name), real_root):
            return int(entry.name)
    return None


def _is_our_asterisk(pid: int, real_root: str) -> bool:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
        proc_root = os.readlink(f"/proc/{pid}/root")
    except OSError:
        return False
    return comm == "asterisk" and proc_root == real_root


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return state[0] != "Z"


def _remove_stale_runfiles(root: Path) -> None:
    for name in ("asterisk.pid", "asterisk.ctl"):
        with contextlib.suppress(FileNotFoundError):
            (root / "run/asterisk" / name).unlink()


def _tail(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])
