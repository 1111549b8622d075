"""Record the AMI fixtures of a call's whole life from the sandbox (tests/calls/).

    flock /tmp/contact-center-sandbox.lock python -m tests.tools.record_call_life OUT_DIR

Starts the sandbox (no bridge: routing falls back to the default queue), places SIPp calls
scenario by scenario and writes what Asterisk sent during each one, byte for byte, to
``OUT_DIR/recorded_<scenario>.txt``. Stops the sandbox at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from contact_center.ami import AmiClient, AmiEvent
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from tests.tools.phones import ScriptedPhone

QUEUE = "main"
log = logging.getLogger("record_call_life")


class Recorder:
    """Raw AMI frames (plain sockets, like tests.tools.record_ami) until stopped."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self.frames: list[bytes] = []

    @contextlib.asynccontextmanager
    async def recording(self) -> AsyncIterator[None]:
        reader, writer = await asyncio.open_connection("127.0.0.1", 5038)
        await reader.readline()
        writer.write(
            f"Action: Login\r\nUsername: contact-center\r\nSecret: {self._secret}\r\n\r\n".encode()
        )
        await writer.drain()

        async def read() -> None:
            while True:
                frame = await reader.readuntil(b"\r\n\r\n")
                if frame.startswith(b"Event: "):
                    self.frames.append(frame)

        task = asyncio.create_task(read())
        try:
            yield
            await asyncio.sleep(1.0)  # the last hangups
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.IncompleteReadError):
                await task
            writer.close()
            await writer.wait_closed()


async def agent_channel(sandbox: AsteriskSandbox, endpoint: str, within: float = 10.0) -> str:
    """The name of `endpoint`'s channel once it is up (in a call)."""
    async with asyncio.timeout(within):
        while True:
            for line in (await sandbox.cli("core show channels concise")).splitlines():
                name, _, rest = line.partition("!")
                if name.startswith(f"PJSIP/{endpoint}-") and "!Up!" in f"!{rest}":
                    return name
            await asyncio.sleep(0.1)


async def call(sandbox: AsteriskSandbox, number: str, name: str, **options: float) -> str:
    result = await place_call(sandbox, caller_number=number, caller_name=name, **options)  # type: ignore[arg-type]
    log.info("call from %s: %s", number, result.outcome)
    return result.outcome


async def record(sandbox: AsteriskSandbox, ami: AmiClient, out: Path, only: str | None) -> None:
    secret = (await asyncio.to_thread(sandbox.ami_secret_file().read_text)).strip()

    async def scenario(name: str, body: Callable[[], Awaitable[None]]) -> None:
        recorder = Recorder(secret)
        try:
            async with recorder.recording():
                await body()
        finally:
            path = out / f"recorded_{name}.txt"
            await asyncio.to_thread(path.write_bytes, b"".join(recorder.frames))
            log.info("%s: %d events", path, len(recorder.frames))

    async def member(interface: str) -> None:
        await sandbox.cli(f"queue add member {interface} to {QUEUE}")

    async def no_member(interface: str) -> None:
        await sandbox.cli(f"queue remove member {interface} from {QUEUE}")

    async def timeout_and_abandon() -> None:
        await sandbox.cli("dialplan set global CC_QUEUE_TIMEOUT 4")
        try:
            first = asyncio.create_task(call(sandbox, "+48221000001", "Timeout Caller"))
            await asyncio.sleep(0.7)
            await call(sandbox, "+48221000002", "Abandon Caller", hangup_after=2.0)
            await first
        finally:
            await sandbox.cli("dialplan set global CC_QUEUE_TIMEOUT 300")

    async def refused_then_answered() -> None:
        async with (
            ScriptedPhone.refusing(sandbox, "agent-1001", 5071, "486 Busy Here"),
            ScriptedPhone.refusing(sandbox, "agent-1003", 5073, "603 Decline"),
            AgentPhone(sandbox, "agent-1002", 5072, answer_after=0.5, talk_seconds=None),
        ):
            await member("PJSIP/agent-1001")
            answered = asyncio.create_task(
                call(sandbox, "+48221000003", "Busy Then Answered", hold_seconds=1.0)
            )
            await asyncio.sleep(2.5)
            await member("PJSIP/agent-1002")
            await answered
            await no_member("PJSIP/agent-1001")
            await no_member("PJSIP/agent-1002")
            await member("PJSIP/agent-1003")
            await call(sandbox, "+48221000004", "Declined", hangup_after=2.5)
            await no_member("PJSIP/agent-1003")

    async def no_answer_then_answered() -> None:
        async with (
            AgentPhone(sandbox, "agent-1004", 5074, answer_after=40, talk_seconds=None),
            AgentPhone(sandbox, "agent-1005", 5075, answer_after=0.5, talk_seconds=None),
        ):
            await member("PJSIP/agent-1004")
            answered = asyncio.create_task(
                call(sandbox, "+48221000005", "No Answer Then Answered", hold_seconds=1.0)
            )
            await asyncio.sleep(2.0)
            await member("PJSIP/agent-1005")
            await answered
            await no_member("PJSIP/agent-1004")
            await no_member("PJSIP/agent-1005")

    async def hold() -> None:
        async with ScriptedPhone.holding(
            sandbox, "agent-1001", 5071, answer_after=0.5, hold_after=1.0, hold_seconds=2.0
        ):
            await member("PJSIP/agent-1001")
            await call(sandbox, "+48221000006", "Held Caller", hold_seconds=5.0)
            await no_member("PJSIP/agent-1001")

    async def transfers() -> None:
        async with (
            AgentPhone(sandbox, "agent-1002", 5072, answer_after=0.5, talk_seconds=None),
            AgentPhone(sandbox, "agent-1003", 5073, answer_after=0.5, talk_seconds=None),
            AgentPhone(sandbox, "agent-1004", 5074, answer_after=0.5, talk_seconds=None),
        ):
            await sandbox.cli("queue add member PJSIP/agent-1004 to support-en")
            await member("PJSIP/agent-1002")
            for kind, target in (
                ("blind", "1003"),
                ("blind", "queue-support-en"),
                ("attended", "1003"),
            ):
                placed = asyncio.create_task(
                    call(
                        sandbox,
                        "+48221000007",
                        f"Transfer {kind} {target}",
                        hold_seconds=5.0 if kind == "blind" else 12.0,
                    )
                )
                channel = await agent_channel(sandbox, "agent-1002")
                await asyncio.sleep(1.0)
                if kind == "blind":
                    await ami.action(
                        "BlindTransfer", Channel=channel, Context="agents", Exten=target
                    )
                else:
                    await ami.action("Atxfer", Channel=channel, Context="agents", Exten=target)
                    # Asterisk plays the "transfer" prompt, collects the digits, waits for
                    # more (transferdigittimeout, 3 s), then rings the target
                    await agent_channel(sandbox, "agent-1003", within=15.0)
                    await asyncio.sleep(1.0)
                    await ami.action("Hangup", Channel=channel)
                await placed
                await asyncio.sleep(0.5)
            await no_member("PJSIP/agent-1002")
            await sandbox.cli("queue remove member PJSIP/agent-1004 from support-en")

    async def local_member() -> None:
        async with AgentPhone(sandbox, "agent-1005", 5075, answer_after=0.5, talk_seconds=None):
            await member("Local/1005@agents")
            await call(sandbox, "+48221000008", "Local Member", hold_seconds=1.0)
            await no_member("Local/1005@agents")

    for name, body in (
        ("timeout_and_abandon", timeout_and_abandon),
        ("refused_then_answered", refused_then_answered),
        ("hold", hold),
        ("transfers", transfers),
        ("local_member", local_member),
        ("no_answer_then_answered", no_answer_then_answered),
    ):
        if only is None or name in only.split(","):
            await scenario(name, body)


async def main(out: Path, only: str | None) -> None:
    with tempfile.TemporaryDirectory() as state:
        sandbox = AsteriskSandbox(load_settings({}, state_dir=Path(state)))
        await sandbox.up()
        try:
            settings = load_settings({"CC_AMI_SECRET_FILE": str(sandbox.ami_secret_file())})
            events: asyncio.Queue[AmiEvent] = asyncio.Queue()
            ami = AmiClient(settings, events)
            runner = asyncio.create_task(ami.run())
            try:
                await ami.wait_connected(10)
                await record(sandbox, ami, out, only)
            finally:
                await ami.close()
                await runner
        finally:
            await sandbox.down()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main(args.out, args.only))
