"""One docker/ stack for every test here: built, started with the demo data set, and removed
at the end (containers and volumes). Machine-wide lock: one such stack at a time."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import browser  # noqa: F401 - Chromium for the page tests
from tests.docker.stack import Stack, docker_ready

LOCK = "/tmp/contact-center-docker.lock"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if os.geteuid() != 0:
        pytest.skip("the docker stack test runs dockerd's images as root: run the suite as root")
    problem = docker_ready()
    if problem:
        pytest.fail(f"docker cannot run the stack: {problem}")
    work = tmp_path_factory.mktemp("docker")
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        box = Stack.create(work)
        box.down(volumes=True)  # a run killed half-way left its containers
        try:
            started = time.monotonic()
            box.build()
            print(f"images built in {time.monotonic() - started:.0f} s")
            started = time.monotonic()
            box.up()
            print(f"stack up in {time.monotonic() - started:.0f} s")
            box.load_demo()
            yield box
        except BaseException:
            print(box.logs())
            raise
        finally:
            box.down(volumes=True)
