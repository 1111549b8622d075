"""A fake Asterisk for FastAGI tests: sends an environment, answers commands, records them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress

OK = b"200 result=1\n"
CALLER_NAME = "Zażółć Gęślą Jaźń Олег"

Answer = Callable[[str], bytes]
"""Gets a command (decoded, no newline); returns the raw reply, b"" to hang up the socket."""


def environment(
    script: str = "route",
    *,
    uniqueid: str = "1732550000.12",
    caller_num: str = "+48601234567",
    caller_name: str = CALLER_NAME,
    args: tuple[str, ...] = (),
    **extra: str,
) -> dict[str, str]:
    """The environment Asterisk 20 sends for ``AGI(agi://127.0.0.1:4573/<script>)``."""
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1:4573/{script}",
        "agi_channel": "PJSIP/trunk-00000001",
        "agi_language": "pl",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid,
        "agi_version": "20.5.0",
        "agi_callerid": caller_num,
        "agi_calleridname": caller_name,
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": "221234567",
        "agi_rdnis": "unknown",
        "agi_context": "from-trunk",
        "agi_extension": "221234567",
        "agi_priority": "2",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "140234567890",
    }
    env.update({f"agi_arg_{n}": arg for n, arg in enumerate(args, start=1)})
    env.update(extra)
    return env


def encode_environment(env: Mapping[str, str]) -> bytes:
    return b"".join(f"{key}: {value}\n".encode() for key, value in env.items()) + b"\n"


def always_ok(command: str) -> bytes:
    return OK


@dataclasses.dataclass
class FakeCall:
    commands: list[str] = dataclasses.field(default_factory=list)
    hung_up: bool = False
    """True when we (the fake) dropped the connection, False when the server closed it."""
    reset: bool = False
    """The server closed with unread data in its socket (as when it refuses a call)."""


class FakeAsterisk:
    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        """A raw connection, closed on exit: for peers that do not speak FastAGI."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            yield reader, writer
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    async def call(
        self,
        env: Mapping[str, str] | None = None,
        *,
        answer: Answer = always_ok,
        byte_delay: float | None = None,
        reply_byte_delay: float | None = None,
        like_res_agi: bool = False,
        within: float = 5.0,
    ) -> FakeCall:
        """Run one AGI call until the server closes the connection (or ``answer`` hangs up).

        With ``byte_delay`` the environment goes out one byte per write; with
        ``reply_byte_delay`` so does every reply. ``like_res_agi`` reads commands the way
        Asterisk's res_agi does (see ``_converse_like_res_agi``).
        """
        data = encode_environment(environment() if env is None else env)
        result = FakeCall()
        async with asyncio.timeout(within), self.connect() as (reader, writer):
            if byte_delay is None:
                writer.write(data)
            else:
                for index in range(len(data)):
                    writer.write(data[index : index + 1])
                    await writer.drain()
                    await asyncio.sleep(byte_delay)
            try:
                await writer.drain()
                converse = self._converse_like_res_agi if like_res_agi else self._converse
                await converse(reader, writer, answer, result, reply_byte_delay)
            except ConnectionResetError:
                result.reset = True
        return result

    @staticmethod
    async def _converse(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        answer: Answer,
        result: FakeCall,
        reply_byte_delay: float | None,
    ) -> None:
        while line := await reader.readline():
            assert line.endswith(b"\n"), line
            if not await _reply(writer, line, answer, result, reply_byte_delay):
                return

    @staticmethod
    async def _converse_like_res_agi(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        answer: Answer,
        result: FakeCall,
        reply_byte_delay: float | None,
    ) -> None:
        """Asterisk's res_agi: it waits for the socket to be readable (poll), then ``fgets``
        one line through a stdio buffer that took in everything there was. Lines that came
        in the same read wait in that buffer until more bytes arrive: a pipelining client
        gets one answer and then nothing (as the Asterisk 22 sandbox does)."""
        buffered = b""
        while chunk := await reader.read(4096):
            buffered += chunk
            if b"\n" not in buffered:
                continue
            line, _, buffered = buffered.partition(b"\n")
            if not await _reply(writer, line + b"\n", answer, result, reply_byte_delay):
                return


async def _reply(
    writer: asyncio.StreamWriter,
    line: bytes,
    answer: Answer,
    result: FakeCall,
    reply_byte_delay: float | None,
) -> bool:
    """Answer one command line; False once ``answer`` has hung up."""
    command = line[:-1].decode("utf-8")
    result.commands.append(command)
    reply = answer(command)
    if not reply:
        result.hung_up = True
        return False
    if reply_byte_delay is None:
        writer.write(reply)
        await writer.drain()
        return True
    for index in range(len(reply)):
        writer.write(reply[index : index + 1])
        await writer.drain()
        await asyncio.sleep(reply_byte_delay)
    return True


async def closed_by_server(reader: asyncio.StreamReader, within: float = 2.0) -> bytes:
    """Everything the server sends until it closes; fails if it does not close in time."""
    async with asyncio.timeout(within):
        return await reader.read()
