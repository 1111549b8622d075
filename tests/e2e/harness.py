"""Run the contact center as real processes, the way an operator runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """One `python -m contact_center ...` process with its log in a file."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.log = log
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        handle = await asyncio.to_thread(self.log.open, "ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "contact_center",
                *self.args,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=handle,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            await asyncio.to_thread(handle.close)

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    async def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self._proc is None or self._proc.returncode is not None:
            return self.returncode
        self._proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self._proc.wait(), 10)
        except TimeoutError:
            self._proc.kill()
            return await self._proc.wait()

    async def output(self) -> str:
        return await asyncio.to_thread(self.log.read_text, "utf-8", "replace")


def app_env(**values: str) -> dict[str, str]:
    """The process environment: ours, less any CC_ setting of the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    env.update(values)
    return env


def center_env(
    sandbox_secret: Path, state_dir: Path, node: str, database_url: str, http_port: int
) -> dict[str, str]:
    """The settings of one contact center under test, linked to the sandbox's AMI."""
    return app_env(
        CC_NODE=node,
        CC_STATE_DIR=str(state_dir),
        CC_DATABASE_URL=database_url,
        CC_AMI_SECRET_FILE=str(sandbox_secret),
        CC_HTTP_PORT=str(http_port),
    )


async def ready(http_port: int) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{http_port}/health/ready") as response,
    ):
        body: dict[str, Any] = await response.json()
        return body


async def wait_node_linked(
    http_port: int, node: str, processes: Sequence[Process], within: float = 20.0
) -> dict[str, Any]:
    """Until the web process says `node`'s bridge is linked to Asterisk over AMI."""
    last: object = None
    try:
        async with asyncio.timeout(within):
            while True:
                for process in processes:
                    if process.returncode is not None:
                        output = await process.output()
                        raise AssertionError(f"{process.args} exited:\n{output}")
                with contextlib.suppress(aiohttp.ClientError):
                    last = body = await ready(http_port)
                    for status in body.get("nodes", []):
                        if status["node"] == node and status["ami_connected"] and body["ready"]:
                            return body
                await asyncio.sleep(0.1)
    except TimeoutError:
        logs = "\n".join([await p.output() for p in processes])
        raise AssertionError(f"node {node} never linked; last readiness {last}\n{logs}") from None


@contextlib.asynccontextmanager
async def running(processes: Sequence[Process]) -> AsyncIterator[None]:
    for process in processes:
        await process.start()
    try:
        yield
    finally:
        for process in reversed(processes):
            await process.stop()


async def logged_calls(sessions: Any, node: str, count: int, within: float = 20.0) -> list[Any]:
    """The node's interactions once `count` are there, oldest first."""
    from sqlalchemy import select

    from contact_center.storage.models import Interaction

    rows: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while len(rows) < count:
                await asyncio.sleep(0.2)
                async with sessions() as session:
                    query = select(Interaction).where(Interaction.node == node)
                    rows = list(await session.scalars(query.order_by(Interaction.id)))
    except TimeoutError:
        raise AssertionError(f"{len(rows)} of {count} calls logged for {node}") from None
    return rows
