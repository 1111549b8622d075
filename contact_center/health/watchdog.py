"""A watchdog for a frozen event loop.

A loop that stops turning (a blocking call that never returns, a busy loop) answers nothing,
not even its liveness probe, and a frozen bridge holds every caller it is routing: Asterisk's
res_agi puts no read timeout on FastAGI. A thread beside the loop sees the loop's heartbeat
stop; after `stall_seconds` it writes every thread's stack to stderr and ends the process
with EXIT_CODE, so the supervisor (systemd `Restart=`, Docker's restart policy) starts a new
one and Asterisk's AGI connections close (the dialplan falls back to its default queue).

A process that was stopped as a whole (SIGSTOP, a suspended machine) is not frozen: the
thread notices that it too slept far longer than it asked, and starts counting afresh.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

EXIT_CODE = 70
"""EX_SOFTWARE: the supervisor restarts the process."""
TICK_SECONDS = 1.0


class LoopWatchdog:
    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self._beat = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start beating on the running loop and watching from a thread."""
        self._loop = asyncio.get_running_loop()
        self._beat = time.monotonic()
        self._tick()
        self._thread = threading.Thread(target=self._watch, name="loop watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()

    def _tick(self) -> None:
        self._beat = time.monotonic()
        assert self._loop is not None
        self._handle = self._loop.call_later(TICK_SECONDS, self._tick)

    def _watch(self) -> None:
        last_wake = time.monotonic()
        while not self._stop.wait(TICK_SECONDS):
            now = time.monotonic()
            if now - last_wake > self.stall_seconds:  # the whole process was stopped
                self._beat = now
            last_wake = now
            frozen = now - self._beat - TICK_SECONDS  # since the next beat was due
            if frozen > self.stall_seconds:
                self._bark(frozen)

    def _bark(self, frozen: float) -> None:
        log.critical(
            "the event loop has not turned for %.1f s: exiting (code %d) so the process is "
            "restarted; every thread's stack follows",
            frozen,
            EXIT_CODE,
        )
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(EXIT_CODE)
