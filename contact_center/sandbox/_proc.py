"""Run a command to completion, with a deadline, without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from contact_center.errors import SandboxError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


async def run(*args: str, limit: float, check: bool = True) -> Completed:
    """Run ``args``; SandboxError after ``limit`` seconds, or on a non-zero exit if ``check``."""
    log.debug("running %s", args)
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as err:
        raise SandboxError(f"cannot run {args[0]}: {err}") from err
    try:
        out, err_out = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError as err:
        await stop_process(proc)
        raise SandboxError(f"{' '.join(args[:3])} ... timed out after {limit:g} s") from err
    done = Completed(
        tuple(args),
        proc.returncode if proc.returncode is not None else -1,
        out.decode("utf-8", "replace"),
        err_out.decode("utf-8", "replace"),
    )
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise SandboxError(f"{' '.join(args[:4])} ... exited with {done.returncode}: {tail}")
    return done


async def stop_process(proc: asyncio.subprocess.Process, grace: float = 3.0) -> None:
    """Terminate ``proc`` (a process we started), then kill it if it does not go."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
