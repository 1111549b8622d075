"""A small FastAGI server on asyncio streams.

Asterisk connects once per ``AGI(agi://host:port/<script>)``, sends its environment, then
answers our commands one line at a time. Each connection is one task, kept in a set that
``close()`` cancels and awaits. Every read has a deadline: the environment as a whole
(``env_timeout``), each command (``command_timeout``) and the handler (``handler_timeout``).
Whatever happens, the connection is closed at the end, and the dialplan goes on.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Self

from contact_center.agi import protocol
from contact_center.agi.protocol import AgiRequest, AgiResponse, EnvironmentParser, Hangup
from contact_center.errors import AgiError, AgiHangup, AgiProtocolError

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 1.0
"""How long closing may wait for our last bytes to leave before the socket is aborted."""


class _PeerClosed(Exception):
    """EOF before a complete line."""


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    """One complete line, ``\\n`` included; ``AgiProtocolError`` if it is over the limit."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        raise _PeerClosed from err
    except asyncio.LimitOverrunError as err:
        raise AgiProtocolError("AGI line longer than the line limit") from err


class AgiSession:
    """The command side of one FastAGI connection. Commands are sent one at a time."""

    def __init__(
        self,
        request: AgiRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float = 5.0,
    ) -> None:
        self.request = request
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self._lock = asyncio.Lock()
        self._broken: AgiError | None = None

    async def command(self, line: bytes) -> AgiResponse:
        """Send one formatted command (see ``protocol``) and return its ``200`` answer.

        ``line`` must be one command line ending in ``\\n`` (``ValueError`` otherwise).
        Raises ``AgiHangup`` on ``HANGUP``, EOF or ``511``; ``AgiProtocolError`` on ``510``,
        ``520`` or garbage; ``AgiError`` when no answer comes within ``command_timeout``.
        After a hangup, a timeout or garbage, the session is spent: every later command
        raises the same kind of error without touching the socket.
        """
        protocol.check_command(line)
        label = _verb(line)
        async with self._lock:
            if self._broken is not None:
                raise type(self._broken)(f"{label}: {self._broken}")
            try:
                async with asyncio.timeout(self._command_timeout):
                    response = await self._exchange(line)
            except TimeoutError as err:
                self._broken = AgiError(f"no answer within {self._command_timeout}s")
                raise AgiError(f"{label}: {self._broken}") from err
            except AgiError as err:
                self._broken = err
                raise
            except ConnectionError as err:
                self._broken = AgiHangup(f"connection lost: {err}")
                raise AgiHangup(f"{label}: {self._broken}") from err
        try:
            return protocol.check_response(response, label)
        except AgiHangup as err:
            self._broken = err
            raise

    async def _exchange(self, line: bytes) -> AgiResponse:
        self._writer.write(line)
        await self._writer.drain()
        parser = protocol.ResponseParser()
        while True:
            try:
                raw = await _read_line(self._reader)
            except _PeerClosed as err:
                raise AgiHangup("the channel closed the AGI connection") from err
            answer = parser.feed_line(raw)
            if isinstance(answer, Hangup):
                raise AgiHangup("the channel hung up")
            if answer is not None:
                return answer

    async def set_variable(self, name: str, value: str) -> None:
        """``SET VARIABLE``; control characters in ``value`` become spaces (see ``quote``)."""
        await self.command(protocol.set_variable(name, value))

    async def set_variables(self, values: Mapping[str, str]) -> None:
        """``SET VARIABLE`` for each item, in order. Every name and value is checked before
        anything is sent, so one bad item sends none; the first error stops the rest.

        One command per round trip, on purpose: Asterisk's res_agi cannot take pipelined
        commands. It reads the socket through a stdio ``FILE`` (``fgets``) but waits for the
        next command by polling the raw descriptor, so when several lines come in one read
        it answers the first and leaves the others in its buffer until more bytes arrive.
        Measured on the Asterisk 22 sandbox: five ``SET VARIABLE`` lines in one write got
        one answer; the other four came only when a sixth command was sent four seconds
        later. Written at once, the variables would be set only when our deadline closed
        the connection.
        """
        lines = [protocol.set_variable(name, value) for name, value in values.items()]
        for line in lines:
            await self.command(line)

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, or None when it is not set."""
        response = await self.command(protocol.get_variable(name))
        return response.data if response.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """Evaluate ``expression`` in the channel; never build it from caller input."""
        response = await self.command(protocol.get_full_variable(expression))
        return response.data if response.result == "1" else None

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command(protocol.verbose(message, level))


Handler = Callable[[AgiRequest, AgiSession], Awaitable[None]]
"""Serves one script: gets the call's environment and its session; returns to end the AGI."""


class AgiServer:
    """Serve FastAGI on ``host:port``, one handler per script name in ``routes``."""

    def __init__(
        self,
        host: str,
        port: int,
        routes: Mapping[str, Handler],
        *,
        env_timeout: float = 5.0,
        command_timeout: float = 5.0,
        handler_timeout: float = 10.0,
        max_line: int = 8192,
        max_env_lines: int = 200,
        max_connections: int = 500,
    ) -> None:
        self._host = host
        self._port = port
        self._routes = MappingProxyType(dict(routes))
        self._env_timeout = env_timeout
        self._command_timeout = command_timeout
        self._handler_timeout = handler_timeout
        self._max_line = max_line
        self._max_env_lines = max_env_lines
        self._max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._serving = 0
        self._saturated = False

    @property
    def port(self) -> int:
        """The bound port (useful when constructed with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the AGI server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def connections(self) -> int:
        """How many connections are open right now (refused ones included until closed)."""
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Return once no connection is open (e.g. to drain calls before ``close()``)."""
        await self._idle.wait()

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the AGI server is already started")
        self._server = await asyncio.start_server(
            self._accept, self._host, self._port, limit=self._max_line
        )
        logger.info("FastAGI listening on %s:%s", self._host, self.port)

    async def close(self) -> None:
        """Stop accepting, cancel the connections in flight and wait for them to end."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        # A connection accepted just before close() may only now get its task: loop.
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        logger.info("FastAGI server closed")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback: the connection task is ours, kept until done, and close() can
        # cancel it (asyncio 3.11 mishandles cancelled tasks it made itself).
        peer = writer.get_extra_info("peername")
        task = asyncio.get_running_loop().create_task(
            self._connection(reader, writer), name=f"fastagi {peer}"
        )
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and (err := task.exception()) is not None:
            logger.error("FastAGI connection task %s failed", task.get_name(), exc_info=err)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self._server is None:
                return
            if self._serving >= self._max_connections:
                self._refuse()
                return
            if self._saturated and self._serving < self._max_connections // 2:
                self._saturated = False
                logger.info("FastAGI accepting calls again")
            self._serving += 1
            try:
                await self._serve(reader, writer)
            finally:
                self._serving -= 1
        finally:
            await _close(writer)

    def _refuse(self) -> None:
        if not self._saturated:
            self._saturated = True
            logger.warning(
                "FastAGI connection limit of %s reached: refusing calls", self._max_connections
            )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            async with asyncio.timeout(self._env_timeout):
                request = await self._read_environment(reader)
        except TimeoutError:
            logger.warning("FastAGI peer %s sent no complete environment in time", peer)
            return
        except _PeerClosed:
            logger.debug("FastAGI peer %s closed before its environment ended", peer)
            return
        except AgiProtocolError as err:
            logger.warning("FastAGI peer %s sent a bad environment: %s", peer, err)
            return

        uniqueid = request.uniqueid
        handler = self._routes.get(request.script)
        if handler is None:
            logger.warning("FastAGI call %s asked for unknown script %r", uniqueid, request.script)
            return
        session = AgiSession(request, reader, writer, command_timeout=self._command_timeout)
        deadline = asyncio.timeout(self._handler_timeout)
        try:
            async with deadline:
                await handler(request, session)
        except TimeoutError:
            if not deadline.expired():
                logger.exception("FastAGI call %s: handler for %r raised", uniqueid, request.script)
                return
            logger.warning(
                "FastAGI call %s: handler for %r cut after %ss",
                uniqueid,
                request.script,
                self._handler_timeout,
            )
        except AgiHangup as err:
            logger.info("FastAGI call %s hung up during %r: %s", uniqueid, request.script, err)
        except AgiError as err:
            logger.warning("FastAGI call %s: %r failed: %s", uniqueid, request.script, err)
        except Exception:
            logger.exception("FastAGI call %s: handler for %r raised", uniqueid, request.script)

    async def _read_environment(self, reader: asyncio.StreamReader) -> AgiRequest:
        parser = EnvironmentParser(self._max_env_lines)
        while True:
            request = parser.feed_line(await _read_line(reader))
            if request is not None:
                return request


def _verb(line: bytes) -> str:
    """``SET VARIABLE`` of ``SET VARIABLE X "..."``: names the command, never its data."""
    words = itertools.takewhile(
        lambda word: word.isalpha() and word.isupper(), line.decode("ascii", "replace").split()
    )
    return " ".join(words) or "AGI command"


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close the connection; abort it if the last bytes cannot leave within a second."""
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await writer.wait_closed()
    except TimeoutError:
        writer.transport.abort()
    except asyncio.CancelledError:
        writer.transport.abort()
        raise
    except ConnectionError as err:
        logger.debug("FastAGI connection closed with %s", err)
