"""The replay server: enough AMI for our client, then the recorded stream at full speed.

    python -m bench.ingest.server --stream bench/ingest/stream.ami.gz --repeat 20

A separate process (its CPU is not the bridge's), driven over stdin/stdout by
``bench.ingest.run``: it prepares the bytes, listens on 127.0.0.1 (port 0) and prints
``port=N``; it answers what the client sends (``Login``, ``Ping``, ``Logoff``; any other
action as a list with no items: ``Response: Success`` + ``EventList: start``, then
``<Action>Complete`` with ``ListItems: 0``, which is what Asterisk says of an empty
``QueueStatus``, ``CoreShowChannels`` or ``Status``); after ``FullyBooted`` it waits. On a
``go`` line it writes the stream to the logged-in connection as fast as the socket takes it,
in chunks cut at frame ends so an answer to an action can go out between two chunks, and
prints one JSON line: monotonic clock readings of the first and last byte written, and the
byte count (or ``{"error": ...}`` at once if the client connects a second time). It keeps
the connection open until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.ingest.stream import DEFAULT_STREAM, Template, load

CHUNK = 64 * 1024
BANNER = b"Asterisk Call Manager/9.0.0\r\n"
BOOTED = (
    b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 1\r\nLastReload: 1\r\n"
    b"Status: Fully Booted\r\n\r\n"
)


def answer(action: dict[str, str]) -> bytes:
    """What Asterisk would say to ``action`` on a node where nothing is going on."""
    name = action.get("action", "")
    action_id = action.get("actionid")
    tag = f"ActionID: {action_id}\r\n" if action_id is not None else ""
    lowered = name.lower()
    if lowered == "login":
        return f"Response: Success\r\n{tag}Message: Authentication accepted\r\n\r\n".encode()
    if lowered == "ping":
        return (
            f"Response: Success\r\n{tag}Ping: Pong\r\nTimestamp: {time.time():.6f}\r\n\r\n".encode()
        )
    if lowered == "logoff":
        return f"Response: Goodbye\r\n{tag}Message: Thanks for all the fish.\r\n\r\n".encode()
    return (
        f"Response: Success\r\n{tag}EventList: start\r\nMessage: {name} will follow\r\n\r\n"
        f"Event: {name}Complete\r\n{tag}EventList: Complete\r\nListItems: 0\r\n\r\n"
    ).encode()


def parse_action(frame: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in frame.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields


class Replay:
    def __init__(self, payload: bytes, chunk: int) -> None:
        self.payload = payload
        self.chunk = chunk
        self.go = asyncio.Event()
        self.done = asyncio.Event()
        self.connections = 0
        self.first_byte = 0.0
        self.last_byte = 0.0
        self._streamed = False

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._streamed:
            # the stream is not replayed twice: the bench fails at once rather than waiting
            print(json.dumps({"error": "the client connected again"}), flush=True)
        answers: list[bytes] = []
        wake = asyncio.Event()
        logged_in = asyncio.Event()

        async def read() -> None:
            while True:
                try:
                    frame = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                action = parse_action(frame)
                answers.append(answer(action))
                if action.get("action", "").lower() == "login":
                    answers.append(BOOTED)
                    logged_in.set()
                wake.set()

        async def write() -> None:
            position, streaming = 0, False
            payload, size = self.payload, len(self.payload)
            go = asyncio.ensure_future(self.go.wait())
            try:
                while True:
                    if answers:
                        writer.write(b"".join(answers))
                        answers.clear()
                        await writer.drain()
                        continue
                    if not streaming and logged_in.is_set() and go.done() and not self._streamed:
                        streaming = self._streamed = True
                        self.first_byte = time.monotonic()
                    if streaming and position < size:
                        end = payload.find(b"\r\n\r\n", position + self.chunk)
                        end = size if end < 0 else end + 4
                        writer.write(payload[position:end])
                        position = end
                        await writer.drain()
                        if position >= size:
                            self.last_byte = time.monotonic()
                            self.done.set()
                        continue
                    wake.clear()
                    waker = asyncio.ensure_future(wake.wait())
                    await asyncio.wait({waker, go}, return_when=asyncio.FIRST_COMPLETED)
                    waker.cancel()
            finally:
                go.cancel()

        reading = asyncio.create_task(read())
        writing = asyncio.create_task(write())
        try:
            writer.write(BANNER)
            await asyncio.wait({reading, writing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reading, writing):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await task
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def control(replay: Replay) -> None:
    """``go`` on stdin starts the stream; end of stdin stops the server."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if line.strip() == b"go":
            replay.go.set()


async def main_async(args: argparse.Namespace) -> None:
    data = await asyncio.to_thread(load, args.stream)
    template = Template.of(data)
    payload = await asyncio.to_thread(template.repeated, args.repeat)
    replay = Replay(payload, args.chunk)
    server = await asyncio.start_server(replay.serve, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        print(f"port={port}", flush=True)
        controlling = asyncio.create_task(control(replay))
        done = asyncio.create_task(replay.done.wait())
        await asyncio.wait({controlling, done}, return_when=asyncio.FIRST_COMPLETED)
        if done.done():
            report = {
                "first_byte": replay.first_byte,
                "last_byte": replay.last_byte,
                "bytes": len(payload),
                "connections": replay.connections,
            }
            print(json.dumps(report), flush=True)
            await controlling
        done.cancel()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.server")
    parser.add_argument("--stream", type=Path, default=DEFAULT_STREAM)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="bytes per write (about)")
    parser.add_argument("--avoid-cpus", default="", help="CPUs to keep off (the bridge's)")
    args = parser.parse_args(argv)
    avoid = {int(cpu) for cpu in args.avoid_cpus.split(",") if cpu.strip()}
    others = set(range(os.cpu_count() or 1)) - avoid
    if avoid and others:
        os.sched_setaffinity(0, others)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
