"""The web app's health endpoints and status page, through a real HTTP client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from contact_center.bus import NodeStatus
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app
from contact_center.web.keys import DATABASE, MESSAGING
from tests.e2e.harness import free_port
from tests.web.auth_helpers import log_in_as


async def client_for(**overrides: object) -> TestClient[object, object]:
    settings = load_settings({}, **overrides)
    app = await asyncio.to_thread(create_app, settings)  # it resolves the static folder
    client: TestClient[object, object] = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[object, object]]:
    client = await client_for(database_url=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}")
    try:
        yield client
    finally:
        await client.close()


async def test_live(client: TestClient[object, object]) -> None:
    response = await client.get("/health/live")
    assert response.status == 200
    assert await response.json() == {"status": "alive"}


async def test_ready_reports_nodes_and_their_age(client: TestClient[object, object]) -> None:
    live = client.app[MESSAGING].live  # type: ignore[index]
    await live.put_node(NodeStatus("node1", True, 3, time.time()))
    await live.put_node(NodeStatus("node2", True, 0, time.time() - 60))
    response = await client.get("/health/ready")
    body = await response.json()
    assert response.status == 200
    assert body["ready"] is True
    assert body["database"] == "ok"
    node1, node2 = body["nodes"]
    assert (node1["node"], node1["ami_connected"], node1["active_calls"]) == ("node1", True, 3)
    assert (node2["node"], node2["ami_connected"]) == ("node2", False)  # silent for a minute


async def test_not_ready_when_redis_is_unreachable(tmp_path: Path) -> None:
    closed_port = free_port()
    client = await client_for(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        redis_url=f"redis://127.0.0.1:{closed_port}/0",
    )
    try:
        response = await client.get("/health/ready")
        body = await response.json()
    finally:
        await client.close()
    assert response.status == 503
    assert body["ready"] is False
    assert body["redis"].startswith("unavailable")
    assert body["database"] == "ok"


async def test_not_ready_when_the_database_is_unreachable() -> None:
    closed_port = free_port()
    client = await client_for(
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/nothing"
    )
    try:
        response = await client.get("/health/ready")
        body = await response.json()
    finally:
        await client.close()
    assert response.status == 503
    assert body["database"].startswith("unavailable")


async def test_status_page_shows_node_names_as_text(client: TestClient[object, object]) -> None:
    await upgrade(client.app[DATABASE].engine)  # type: ignore[index]
    await log_in_as(client, "viewer")  # the status page needs a login
    live = client.app[MESSAGING].live  # type: ignore[index]
    await live.put_node(NodeStatus("<script>alert(1)</script>", False, 0, time.time()))
    response = await client.get("/")
    page = await response.text()
    assert response.status == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
