"""Readiness for real, in the split mode: a `bridge` process (its own health port) and a
`web` process on PostgreSQL and Redis, each reached through a proxy the test can refuse,
and the sandbox's Asterisk. Stopping Asterisk, the database or Redis turns the readiness of
the processes that need it to 503 within five seconds, and back to 200 when it returns;
liveness stays 200 throughout; the bridge's metrics count the AMI events it took."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from contact_center.runtime import open_database
from contact_center.sandbox import AsteriskSandbox
from contact_center.settings import load_settings
from contact_center.storage.db import upgrade
from tests.e2e.faults import CuttableProxy
from tests.e2e.harness import Process, center_env, free_port, running, wait_node_linked
from tests.pg import temporary_postgres_database

pytestmark = [pytest.mark.sandbox, pytest.mark.timeout(240)]

WITHIN = 5.0


async def get(port: int, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def turns(port: int, status: int, started: float, within: float = WITHIN) -> Any:
    """Poll /health/ready until it answers `status`; fail if that took over `within` s
    from `started` (the moment of the fault)."""
    body: Any = None
    while time.monotonic() - started < within:
        got, body = await get(port, "/health/ready")
        if got == status:
            print(f"port {port}: {status} after {time.monotonic() - started:.2f} s")
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"port {port}: not {status} within {within} s: {body}")


async def alive(*ports: int) -> None:
    for port in ports:
        assert await get(port, "/health/live") == (200, {"status": "alive"})


async def test_readiness_follows_asterisk_database_and_redis(
    sandbox: AsteriskSandbox, tmp_path: Path
) -> None:
    node = f"health-{secrets.token_hex(3)}"
    web_port, bridge_port = free_port(), free_port()
    async with (
        temporary_postgres_database() as database_url,
        CuttableProxy("127.0.0.1", 5432) as pg,
        CuttableProxy("127.0.0.1", 6379) as redis,
    ):
        settings = load_settings({}, database_url=database_url)
        async with open_database(settings) as database:
            await upgrade(database.engine)
        proxied_url = database_url.replace(":5432/", f":{pg.port}/")
        env = center_env(sandbox.ami_secret_file(), tmp_path, node, proxied_url, web_port)
        env |= {
            "CC_REDIS_URL": f"redis://127.0.0.1:{redis.port}/9",
            "CC_BRIDGE_HTTP_PORT": str(bridge_port),
        }
        procs = [
            Process(["bridge"], env, tmp_path / "bridge.log"),
            Process(["web"], env, tmp_path / "web.log"),
        ]
        async with running(procs):
            await wait_node_linked(web_port, node, procs)
            body = await turns(bridge_port, 200, time.monotonic(), within=20)
            assert body["ami"] == body["journal"] == body["database"] == body["redis"] == "ok"
            status, metrics = await get(bridge_port, "/metrics")
            assert status == 200
            assert f'cc_ami_connected{{node="{node}"}} 1.0' in metrics
            assert f'cc_errors_total{{kind="database_write",node="{node}"}}' in metrics

            # Asterisk stops: the bridge is not ready, the web process still is
            started = time.monotonic()
            await sandbox.down()
            body = await turns(bridge_port, 503, started)
            assert body["ami"] == "not connected"
            assert body["database"] == body["redis"] == "ok"
            status, web_body = await get(web_port, "/health/ready")
            assert status == 200, web_body
            await alive(web_port, bridge_port)
            await sandbox.up()
            await turns(bridge_port, 200, time.monotonic(), within=20)

            # the database is unreachable: both processes are not ready, then both are
            for port in (bridge_port, web_port):
                await turns(port, 200, time.monotonic())
            started = time.monotonic()
            pg.refuse()
            for port in (bridge_port, web_port):
                body = await turns(port, 503, started)
                assert body["database"].startswith("unavailable"), body
            await alive(web_port, bridge_port)
            started = time.monotonic()
            pg.accept()
            for port in (bridge_port, web_port):
                await turns(port, 200, started)

            # Redis is unreachable: the same
            started = time.monotonic()
            redis.refuse()
            for port in (bridge_port, web_port):
                body = await turns(port, 503, started)
                assert body["redis"].startswith("unavailable"), body
            await alive(web_port, bridge_port)
            started = time.monotonic()
            redis.accept()
            for port in (bridge_port, web_port):
                await turns(port, 200, started)

            status, metrics = await get(bridge_port, "/metrics")
            events = next(
                line for line in metrics.splitlines() if line.startswith("cc_ami_events_total")
            )
            assert float(events.rsplit(" ", 1)[1]) > 0  # FullyBooted, the resyncs' lists
            for process in procs:
                assert process.returncode is None, await process.output()
