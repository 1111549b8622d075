"""Health and metrics of a process that runs a bridge (`serve`), through a real HTTP client,
with the bridge linked to a loopback AMI server: readiness follows the AMI link and the
journal's writer (a real full disk: a small tmpfs), liveness catches an event consumer stuck
on a Redis that never answers, /metrics counts the events and is guarded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app
from contact_center.web.health import STALLED_SECONDS
from contact_center.web.keys import BRIDGE, DATABASE
from tests.ami.fake_ami import SECRET, USERNAME, FakeAmi
from tests.e2e.harness import free_port
from tests.web import test_agents_api as agents_api

Client = TestClient[Any, Any]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ami"
FULLY_BOOTED = {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"}


def recorded_frames(name: str) -> list[bytes]:
    """The frames of a recording as Asterisk sent them (CRLF lines, a blank line after)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    blocks = [b.strip("\n") for b in text.split("\n\n") if b.strip()]
    return [("\r\n".join(b.split("\n")) + "\r\n\r\n").encode() for b in blocks]


async def start(tmp_path: Path, fake: FakeAmi, state_dir: Path, **more: object) -> Client:
    settings = load_settings(
        {"CC_AMI_SECRET": SECRET},
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        state_dir=state_dir,
        ami_port=fake.port,
        ami_user=USERNAME,
        agi_port=free_port(),
        **more,
    )
    app = await asyncio.to_thread(create_app, settings, with_bridge=True)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    await upgrade(app[DATABASE].engine)
    return client


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def ready_turns(client: Client, status: int, within: float = 5.0) -> dict[str, Any]:
    started = time.monotonic()
    body: dict[str, Any] = {}
    while time.monotonic() - started < within:
        response = await client.get("/health/ready")
        body = await response.json()
        if response.status == status:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"readiness not {status} within {within} s: {body}")


async def metric(client: Client, prefix: str) -> float:
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    line = next(x for x in text.splitlines() if x.startswith(prefix))
    return float(line.rsplit(" ", 1)[1])


async def test_readiness_follows_the_ami_link_and_metrics_count_events(
    tmp_path: Path, fake: FakeAmi
) -> None:
    client = await start(tmp_path, fake, tmp_path)
    try:
        body = await ready_turns(client, 200)
        assert body["ami"] == body["journal"] == body["database"] == "ok"
        before = await metric(client, 'cc_ami_events_total{node="node1"}')
        for _ in range(5):
            await fake.event(FULLY_BOOTED)
        deadline = time.monotonic() + 5
        while await metric(client, 'cc_ami_events_total{node="node1"}') < before + 5:
            assert time.monotonic() < deadline, "the events were not counted"
            await asyncio.sleep(0.05)
        assert await metric(client, 'cc_ami_connected{node="node1"}') == 1.0
        assert await metric(client, 'cc_websocket_clients{channel="push"}') == 0.0
        assert await metric(client, "cc_routing_seconds_count ") == 0.0
        assert await metric(client, "process_cpu_seconds_total ") > 0

        started = time.monotonic()
        await fake.stop()  # Asterisk goes away
        body = await ready_turns(client, 503)
        assert body["ami"] == "not connected"
        assert time.monotonic() - started < 5
        assert (await client.get("/health/live")).status == 200
        await fake.start()
        await ready_turns(client, 200, within=15)  # the client retries with a pause
        assert await metric(client, 'cc_ami_connected{node="node1"}') == 1.0
    finally:
        await client.close()


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Any:
    path.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Write until the file system is full."""
    with contextlib.suppress(OSError), (path / "filler").open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 4096)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
async def test_a_journal_stopped_by_a_full_disk_makes_the_bridge_not_ready(
    tmp_path: Path, fake: FakeAmi
) -> None:
    with await asyncio.to_thread(tmpfs, tmp_path / "state", "256k") as state:
        client = await start(tmp_path, fake, state)
        try:
            await ready_turns(client, 200)
            await asyncio.to_thread(fill, state)
            for frame in await asyncio.to_thread(recorded_frames, "recorded_answered_pl.txt"):
                await fake.raw_to_all(frame)
            body = await ready_turns(client, 503)
            assert body["journal"].startswith("stopped")
            assert body["ami"] == body["database"] == "ok"
            assert await metric(client, 'cc_journal_writing{node="node1"}') == 0.0
            assert (await client.get("/health/live")).status == 200
        finally:
            await client.close()


async def _blackhole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A peer that takes every byte and never answers (a frozen Redis)."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass
    writer.close()


@pytest.mark.timeout(60)
async def test_liveness_fails_when_the_event_consumer_is_stuck(
    tmp_path: Path, fake: FakeAmi
) -> None:
    frozen_redis = await asyncio.start_server(_blackhole, "127.0.0.1", 0)
    port = frozen_redis.sockets[0].getsockname()[1]
    client = await start(tmp_path, fake, tmp_path, redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        # the consumer publishes the node's status on connecting: it waits for ever
        for _ in range(3):
            await fake.event(FULLY_BOOTED)
        assert (await client.get("/health/live")).status == 200
        started = time.monotonic()
        while (response := await client.get("/health/live")).status == 200:
            assert time.monotonic() - started < 20, "liveness never failed"
            await asyncio.sleep(0.25)
        body = await response.json()
        assert response.status == 503
        assert body["status"] == "stuck"
        assert client.app[BRIDGE].events.qsize() > 0  # type: ignore[index]
    finally:
        await client.close()
        frozen_redis.close()


async def test_metrics_are_guarded(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    # a token set: none or a wrong one is refused, even from loopback
    app = await asyncio.to_thread(
        create_app, load_settings({"CC_METRICS_TOKEN": "t0ken-1"}, database_url=database_url)
    )
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert (await client.get("/metrics")).status == 401
        wrong = {"Authorization": "Bearer t0ken-2"}
        assert (await client.get("/metrics", headers=wrong)).status == 401
        right = {"Authorization": "Bearer t0ken-1"}
        response = await client.get("/metrics", headers=right)
        assert response.status == 200
        assert response.content_type == "text/plain"
        assert 'cc_websocket_clients{channel="wallboard"} 0.0' in await response.text()
    finally:
        await client.close()
    # no token: loopback gets them, unless a proxy on this host forwarded the request
    app = await asyncio.to_thread(create_app, load_settings({}, database_url=database_url))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        assert (await client.get("/metrics")).status == 200
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            forwarded = await client.get("/metrics", headers={header: "203.0.113.7"})
            assert forwarded.status == 403, header
    finally:
        await client.close()
    # no token: a peer that is not on loopback (here: a unix socket's) is refused
    app = await asyncio.to_thread(create_app, load_settings({}, database_url=database_url))
    runner = web.AppRunner(app)
    await runner.setup()
    socket_path = str(tmp_path / "web.sock")
    await web.UnixSite(runner, socket_path).start()
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket_path)) as http,
            http.get("http://localhost/metrics") as response,
        ):
            assert response.status == 403
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket_path)) as http,
            http.get("http://localhost/health/live") as response,
        ):
            assert response.status == 200  # health stays public
    finally:
        await runner.cleanup()


@pytest.mark.timeout(60)
async def test_a_database_that_never_answers_holds_no_event_back(
    tmp_path: Path, fake: FakeAmi
) -> None:
    """A PostgreSQL that takes connections and never answers: readiness says so within the
    check's 2 s, and the event consumer, which reads the queues' wrap-up times after each
    connect, gives up on it in time and goes on (liveness stays good past its limit)."""
    frozen_db = await asyncio.start_server(_blackhole, "127.0.0.1", 0)
    port = frozen_db.sockets[0].getsockname()[1]
    settings = load_settings(
        {"CC_AMI_SECRET": SECRET},
        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nothing",
        state_dir=tmp_path,
        ami_port=fake.port,
        ami_user=USERNAME,
        agi_port=free_port(),
    )
    app = await asyncio.to_thread(create_app, settings, with_bridge=True)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    try:
        started = time.monotonic()
        body = await ready_turns(client, 503)
        assert body["database"] == "unavailable: TimeoutError"
        assert time.monotonic() - started < 5
        sent = 0
        while time.monotonic() - started < STALLED_SECONDS + 3:
            await fake.event(FULLY_BOOTED)
            sent += 1
            assert (await client.get("/health/live")).status == 200
            await asyncio.sleep(0.5)
        assert await metric(client, 'cc_ami_events_total{node="node1"}') >= sent
    finally:
        await client.close()
        frozen_db.close()


async def test_readiness_answers_within_a_probes_timeout_when_redis_never_answers(
    tmp_path: Path,
) -> None:
    """A Redis that takes connections and never answers: readiness says so after the
    check's 2 s, without asking it again for the nodes (a probe gives up after 3 s)."""
    frozen_redis = await asyncio.start_server(_blackhole, "127.0.0.1", 0)
    port = frozen_redis.sockets[0].getsockname()[1]
    settings = load_settings(
        {},
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        redis_url=f"redis://127.0.0.1:{port}/0",
    )
    app = await asyncio.to_thread(create_app, settings)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    try:
        started = time.monotonic()
        response = await client.get("/health/ready")
        took = time.monotonic() - started
        body = await response.json()
        assert response.status == 503
        assert body["redis"] == "unavailable: TimeoutError"
        assert body["database"] == "ok"
        assert body["nodes"] == []
        assert took < 3, took
    finally:
        await client.close()
        frozen_redis.close()


async def test_server_errors_are_counted_and_health_is_not(tmp_path: Path) -> None:
    """A web process with no bridge answers an agent's command with 503: one server error;
    readiness that says 503 is not one (it is polled all the time)."""
    client = await agents_api.start(tmp_path, None)
    try:
        token = await agents_api.as_user(client, "anna")
        assert await metric(client, "cc_http_errors_total ") == 0
        status, _body = await agents_api.post(
            client, "/api/agent/login", {"queue": "support-pl"}, token
        )
        assert status == 503
        assert await metric(client, "cc_http_errors_total ") == 1
        await client.close()  # the database goes: readiness is 503, still no server error
        client = await start_closed_database(tmp_path)
        assert (await client.get("/health/ready")).status == 503
        assert await metric(client, "cc_http_errors_total ") == 0
    finally:
        await client.close()


async def start_closed_database(tmp_path: Path) -> Client:
    settings = load_settings(
        {}, database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    )
    app = await asyncio.to_thread(create_app, settings)
    client: Client = TestClient(TestServer(app))
    await client.start_server()
    return client
