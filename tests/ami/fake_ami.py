"""A loopback fake of the Asterisk Manager Interface, hostile on demand.

It speaks the ``Asterisk Call Manager/6.0.0`` banner, ``Login`` (sends ``FullyBooted``
after it), ``Ping``, ``QueueStatus`` (a list), ``QueueAdd``/``QueueRemove``/``QueuePause``,
and whatever a test puts in ``handlers``. ``mode`` makes it hostile for new connections:

- ``"normal"``: behave;
- ``"close_before_banner"`` / ``"close_after_banner"``: hang up at once;
- ``"silent"``: banner, then never answer anything;
- ``"refuse_login"``: answer every Login with ``Response: Error``.

``slow`` writes one byte at a time with a short sleep between; ``split_at`` makes every
write go out in two reads split at that byte offset.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

BANNER = b"Asterisk Call Manager/6.0.0\r\n"
USERNAME = "cc"
SECRET = "s3cret"

Handler = Callable[["Session", dict[str, str]], Awaitable[list[dict[str, str]] | None]]


def encode(fields: dict[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n"


class Session:
    def __init__(self, server: FakeAmi, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.writer = writer
        self.logged_in = False
        self.muted = False  # stop answering anything (a dead but open link)
        self._lock = asyncio.Lock()  # one frame at a time, even byte by byte

    async def write(self, data: bytes) -> None:
        async with self._lock:
            await self._write(data)

    async def _write(self, data: bytes) -> None:
        if self.writer.is_closing():
            return
        if self.server.slow:
            for i in range(len(data)):
                if self.writer.is_closing():
                    return
                self.writer.write(data[i : i + 1])
                await self.writer.drain()
                await asyncio.sleep(0.0005)
        elif self.server.split_at is not None and len(data) > self.server.split_at:
            cut = self.server.split_at
            self.writer.write(data[:cut])
            await self.writer.drain()
            await asyncio.sleep(0.02)
            self.writer.write(data[cut:])
            await self.writer.drain()
        else:
            self.writer.write(data)
            await self.writer.drain()

    async def send(self, fields: dict[str, str]) -> None:
        await self.write(encode(fields))


class FakeAmi:
    def __init__(self, username: str = USERNAME, secret: str = SECRET) -> None:
        self.username = username
        self.secret = secret
        self.mode = "normal"
        self.slow = False
        self.split_at: int | None = None
        self.port = 0
        self.received: list[dict[str, str]] = []
        self.raw = bytearray()
        self.logins = 0
        self.connections = 0
        self.sessions: list[Session] = []
        self.handlers: dict[str, Handler] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and hang up on every client (an Asterisk restart, say)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for session in self.sessions:
            session.writer.close()
        if self._tasks:
            # Hung up on, each handler sees end of file and returns (cancelling them would
            # trip asyncio's stream callback on 3.11).
            await asyncio.wait(set(self._tasks), timeout=2)
        for session in self.sessions:
            with contextlib.suppress(OSError):
                await session.writer.wait_closed()
        self.sessions.clear()

    async def event(self, fields: dict[str, str]) -> None:
        """Send an event to every logged-in client."""
        for session in list(self.sessions):
            if session.logged_in:
                await session.send(fields)

    async def raw_to_all(self, data: bytes) -> None:
        for session in list(self.sessions):
            if session.logged_in:
                await session.write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        session = Session(self, writer)
        self.sessions.append(session)
        try:
            if self.mode == "close_before_banner":
                return
            await session.write(BANNER)
            if self.mode == "close_after_banner":
                return
            while True:
                try:
                    data = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.raw += data
                fields = {}
                for line in data.decode().split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        fields[key] = value
                self.received.append(fields)
                if self.mode == "silent" or session.muted:
                    continue
                await self._answer(session, fields)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _answer(self, session: Session, fields: dict[str, str]) -> None:
        name = fields.get("Action", "").lower()
        action_id = {"ActionID": fields.get("ActionID", "")}
        handler = self.handlers.get(name)
        if handler is not None:
            frames = await handler(session, fields)
            for frame in frames or ():
                await session.send({**frame, **action_id} if "Event" not in frame else frame)
            return
        if name == "login":
            self.logins += 1
            good = fields.get("Username") == self.username and fields.get("Secret") == self.secret
            if self.mode == "refuse_login" or not good:
                await session.send(
                    {"Response": "Error", **action_id, "Message": "Authentication failed"}
                )
                return
            session.logged_in = True
            await session.send(
                {"Response": "Success", **action_id, "Message": "Authentication accepted"}
            )
            await session.send(
                {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"}
            )
        elif name == "ping":
            await session.send(
                {"Response": "Success", **action_id, "Ping": "Pong", "Timestamp": "1718000000.5"}
            )
        elif name == "queuestatus":
            await session.send(
                {
                    "Response": "Success",
                    **action_id,
                    "EventList": "start",
                    "Message": "Queue status will follow",
                }
            )
            await session.send(
                {"Event": "QueueParams", "Queue": "general", "Calls": "1", **action_id}
            )
            await session.send(
                {
                    "Event": "QueueMember",
                    "Queue": "general",
                    "Name": "Zażółć Gęślą Jaźń",
                    "Location": "PJSIP/agent1",
                    **action_id,
                }
            )
            await session.send(
                {
                    "Event": "QueueStatusComplete",
                    **action_id,
                    "EventList": "Complete",
                    "ListItems": "2",
                }
            )
        elif name == "queueadd":
            await session.send(
                {"Response": "Success", **action_id, "Message": "Added interface to queue"}
            )
        elif name in {"queueremove", "queuepause"}:
            await session.send({"Response": "Success", **action_id, "Message": "Done"})
        else:
            await session.send(
                {"Response": "Error", **action_id, "Message": "Invalid/unknown command"}
            )
