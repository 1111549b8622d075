from __future__ import annotations

from collections.abc import Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any blocking call made on the event loop by the AGI package."""
    with blockbuster_ctx("contact_center") as guard:
        yield guard
