"""The frozen-loop watchdog in a real process: a loop blocked past the limit ends the process
with code 70 and every thread's stack; a process stopped as a whole (SIGSTOP) and continued
is not taken for a frozen one. And the settings that go with health and metrics."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import pytest

from contact_center.errors import SettingsError
from contact_center.health.watchdog import EXIT_CODE
from contact_center.settings import load_settings

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


@pytest.mark.timeout(60)
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


@pytest.mark.timeout(60)
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


@pytest.mark.parametrize(
    ("environ", "field", "value"),
    [
        ({}, "watchdog_seconds", 15.0),
        ({"CC_WATCHDOG_SECONDS": "0"}, "watchdog_seconds", 0.0),
        ({"CC_WATCHDOG_SECONDS": "30"}, "watchdog_seconds", 30.0),
        ({}, "bridge_http_port", 8081),
        ({"CC_BRIDGE_HTTP_PORT": "9100"}, "bridge_http_port", 9100),
        ({"CC_BRIDGE_HTTP_HOST": "0.0.0.0"}, "bridge_http_host", "0.0.0.0"),
    ],
)
def test_settings(environ: dict[str, str], field: str, value: object) -> None:
    assert getattr(load_settings(environ), field) == value


@pytest.mark.parametrize(
    "environ",
    [{"CC_WATCHDOG_SECONDS": "1"}, {"CC_WATCHDOG_SECONDS": "-5"}, {"CC_BRIDGE_HTTP_PORT": "0"}],
)
def test_bad_settings_name_their_variable(environ: dict[str, str]) -> None:
    [name] = environ
    with pytest.raises(SettingsError, match=name):
        load_settings(environ)


def test_the_metrics_token_is_never_shown() -> None:
    settings = load_settings({"CC_METRICS_TOKEN": "very-secret-token"})
    assert settings.metrics_token is not None
    assert settings.metrics_token.reveal() == "very-secret-token"
    assert "very-secret-token" not in repr(settings)
