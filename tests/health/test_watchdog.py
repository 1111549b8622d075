"""The frozen-loop watchdog in a real process: a loop blocked past the limit ends the process
with code 70 and every thread's stack; a process stopped as a whole (SIGSTOP) and continued
is not taken for a frozen one."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import pytest

from contact_center.health.watchdog import EXIT_CODE

pytestmark = pytest.mark.timeout(60)

PROGRAM = """
import asyncio, sys, time
from contact_center.health.watchdog import LoopWatchdog

async def main():
    LoopWatchdog({stall}).start()
    print("running", flush=True)
    await asyncio.sleep({healthy})
    print("freezing", flush=True)
    time.sleep(60)  # a call that blocks the loop

asyncio.run(main())
"""


async def start(stall: float, healthy: float) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PROGRAM.format(stall=stall, healthy=healthy),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await process.stdout.readline() == b"running\n"
    return process


async def test_a_frozen_loop_ends_the_process_with_its_stacks() -> None:
    process = await start(stall=2, healthy=0.5)
    assert process.stdout is not None
    assert await process.stdout.readline() == b"freezing\n"
    frozen_at = time.monotonic()
    _out, err = await asyncio.wait_for(process.communicate(), 15)
    took = time.monotonic() - frozen_at
    assert process.returncode == EXIT_CODE
    assert 2 <= took < 5, took
    text = err.decode()
    assert "the event loop has not turned" in text
    assert 'File "<string>", line 10 in main' in text  # the frozen line, named


async def test_a_stopped_and_continued_process_is_not_frozen() -> None:
    process = await start(stall=2, healthy=30)
    try:
        process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(4)
        process.send_signal(signal.SIGCONT)
        await asyncio.sleep(3)
        assert process.returncode is None
    finally:
        process.kill()
        await process.wait()
