from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .fake_ami import FakeAmi


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
