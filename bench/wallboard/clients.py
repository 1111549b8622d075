"""The benchmark's clients, in a process of their own (their CPU is not the server's):
N wallboards on /wallboard/push and M agent desks on /push, each a real websocket.

    python -m bench.wallboard.clients --url http://127.0.0.1:PORT --board-cookie C \
        --desk-cookie C --boards 180 --desks 20

Prints ``ready`` once every socket has its first frame, then notes, for each socket, when
(CLOCK_MONOTONIC, shared by every process of the machine) it first saw each marker
(``bench-m<seq>``, a pause reason the run's AMI server sends); on end of stdin it prints
them as one JSON line and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence

import aiohttp

MARKER = re.compile(r"bench-m(\d+)")


class Socket:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.seen: dict[int, float] = {}
        self.frames = 0
        self.bytes = 0
        self.ready = asyncio.Event()
        self.closed: int | None = None

    async def run(self, http: aiohttp.ClientSession, url: str, path: str, cookie: str) -> None:
        headers = {"Origin": url, "Cookie": f"cc_session={cookie}"}
        async with http.ws_connect(url + path, headers=headers, heartbeat=None) as socket:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                now = time.monotonic()
                text = message.data
                self.frames += 1
                self.bytes += len(text)
                self.ready.set()
                for found in MARKER.finditer(text):
                    self.seen.setdefault(int(found.group(1)), now)
            self.closed = socket.close_code


async def main_async(args: argparse.Namespace) -> None:
    sockets = [Socket("board") for _ in range(args.boards)]
    sockets += [Socket("desk") for _ in range(args.desks)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = []
        for socket in sockets:
            path, cookie = (
                ("/wallboard/push", args.board_cookie)
                if socket.kind == "board"
                else ("/push", args.desk_cookie)
            )
            tasks.append(asyncio.create_task(socket.run(http, args.url, path, cookie)))
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in sockets)), 60)
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while await reader.readline():
            pass
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await task
    report = [
        {
            "kind": s.kind,
            "seen": s.seen,
            "frames": s.frames,
            "bytes": s.bytes,
            "closed": s.closed,
        }
        for s in sockets
    ]
    print(json.dumps(report), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wallboard.clients")
    parser.add_argument("--url", required=True)
    parser.add_argument("--board-cookie", required=True)
    parser.add_argument("--desk-cookie", required=True)
    parser.add_argument("--boards", type=int, default=180)
    parser.add_argument("--desks", type=int, default=20)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
