"""One real Asterisk sandbox per test module (chroot, root only), always stopped after."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from contact_center.sandbox import AsteriskSandbox
from contact_center.sandbox.root import root_is_ready
from contact_center.settings import load_settings


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskSandbox]:
    if os.geteuid() != 0:
        pytest.skip("the Asterisk sandbox needs root (chroot)")
    settings = load_settings(state_dir=tmp_path_factory.mktemp("state"))
    if not root_is_ready(Path(settings.sandbox_root)):
        pytest.skip(f"no sandbox root at {settings.sandbox_root} (build it first)")
    box = AsteriskSandbox(settings)
    try:
        asyncio.run(box.up())
        yield box
    finally:
        asyncio.run(box.down())
