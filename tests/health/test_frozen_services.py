"""Readiness when PostgreSQL or Redis stops answering without closing its connections (as a
stopped container on a bridge network does): a process with a bridge, on real PostgreSQL and
Redis reached through proxies that freeze, turns not ready within 5 s, and ready again within
5 s once the service is back, its pooled connections from before reset."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app
from contact_center.web.keys import DATABASE
from tests.ami.fake_ami import SECRET, USERNAME, FakeAmi
from tests.e2e.harness import free_port
from tests.health.frozen_proxy import FreezableProxy
from tests.health.test_endpoints import metric, ready_turns, recorded_frames
from tests.pg import PG_PORT, temporary_postgres_database

pytestmark = pytest.mark.timeout(90)

Client = TestClient[Any, Any]
REDIS_PORT = 6379
WITHIN = 5.0
PROBE_TIMEOUT = 3.0
EVENTS = 'cc_ami_events_total{node="frozen-test"}'
LOGGED = 'cc_calls_logged_total{node="frozen-test"}'


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def turns(client: Client, status: int, started: float) -> dict[str, Any]:
    body = await ready_turns(client, status, within=WITHIN)
    took = time.monotonic() - started
    assert took < WITHIN, took
    print(f"readiness {status} after {took:.2f} s")
    return body


async def test_readiness_follows_frozen_services(tmp_path: Path, fake: FakeAmi) -> None:
    async with (
        temporary_postgres_database() as database_url,
        FreezableProxy(PG_PORT) as pg,
        FreezableProxy(REDIS_PORT) as redis,
    ):
        settings = load_settings(
            {"CC_AMI_SECRET": SECRET},
            database_url=database_url.replace(f":{PG_PORT}/", f":{pg.port}/"),
            redis_url=f"redis://127.0.0.1:{redis.port}/9",
            state_dir=tmp_path,
            node="frozen-test",
            ami_port=fake.port,
            ami_user=USERNAME,
            agi_port=free_port(),
        )
        app = await asyncio.to_thread(create_app, settings, with_bridge=True)
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        frames = await asyncio.to_thread(recorded_frames, "recorded_answered_pl.txt")
        before = 0.0
        try:
            await upgrade(app[DATABASE].engine)
            await turns(client, 200, time.monotonic())
            for proxy, check in ((pg, "database"), (redis, "redis")):
                started = time.monotonic()
                proxy.freeze()
                # the first request after the freeze meets the pooled connection from
                # before: it still answers within a probe's 3 s (closing that connection
                # takes as long again, and goes on without the request)
                response = await client.get("/health/ready")
                took = time.monotonic() - started
                print(f"{check} frozen: readiness 503 after {took:.2f} s")
                assert took < PROBE_TIMEOUT
                assert response.status == 503
                body = await response.json()
                assert body[check] == "unavailable: TimeoutError", body
                if proxy is redis:  # a call meanwhile: the bridge publishes its news to Redis
                    before = await metric(client, EVENTS)
                    for frame in frames:
                        await fake.raw_to_all(frame)
                await asyncio.sleep(3)  # frozen a while: pooled connections time out too
                started = time.monotonic()
                proxy.thaw()
                body = await turns(client, 200, started)
                assert body["ami"] == body["journal"] == "ok"
            # the call, whose news the bridge could not publish while Redis was frozen, was
            # followed and logged once Redis was back
            async with asyncio.timeout(WITHIN):
                while await metric(client, LOGGED) < 1:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            assert await metric(client, EVENTS) > before
            assert (await client.get("/health/live")).status == 200
        finally:
            await client.close()
