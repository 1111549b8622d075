"""Faults on demand: a TCP proxy whose link can be cut, or refused for a while."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.e2e.harness import free_port


class CuttableProxy:
    """127.0.0.1:<port> forwarded to ``target``; `cut` drops every open link at once,
    `refuse` also turns new connections away until `accept` (a service that is down)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.refusing = False
        self.cuts = 0
        self._links: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_links()
        await self._server.wait_closed()

    def cut(self) -> None:
        self._drop_links()
        self.cuts += 1

    def _drop_links(self) -> None:
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def refuse(self) -> None:
        self.refusing = True
        self.cut()

    def accept(self) -> None:
        self.refusing = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update((writer, up_writer))
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                self._links.discard(end)
                end.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@contextlib.asynccontextmanager
async def proxied(host: str, port: int) -> AsyncIterator[CuttableProxy]:
    async with CuttableProxy(host, port) as proxy:
        yield proxy
