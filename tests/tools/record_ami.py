"""Record raw AMI traffic from a running Asterisk into a fixture file.

    python -m tests.tools.record_ami --secret-file var/sandbox/ami_secret --seconds 30 OUT

It logs in with plain sockets (no panoramisk, so the fixture is what Asterisk really sent),
drops the banner and our own login exchange, and keeps every event frame byte for byte.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


async def record(host: str, port: int, user: str, secret: str, seconds: float) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    await reader.readline()  # banner
    writer.write(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n".encode())
    await writer.drain()
    frames: list[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while (left := deadline - loop.time()) > 0:
            try:
                frame = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), left)
            except TimeoutError:
                break
            if frame.startswith(b"Event: "):
                frames.append(frame)
            elif b"Response: Error" in frame:
                raise SystemExit(f"login refused: {frame!r}")
    finally:
        writer.close()
        await writer.wait_closed()
    return b"".join(frames)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--user", default="contact-center")
    parser.add_argument("--secret-file", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    secret = args.secret_file.read_text().strip()
    frames = asyncio.run(record(args.host, args.port, args.user, secret, args.seconds))
    args.out.write_bytes(frames)
    print(f"{frames.count(b'Event: ')} events written to {args.out}")


if __name__ == "__main__":
    main()
