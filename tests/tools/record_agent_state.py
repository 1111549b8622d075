"""Record the AMI fixtures of agent state from the sandbox (tests/calls/test_agents.py).

    flock /tmp/contact-center-sandbox.lock python -m tests.tools.record_agent_state OUT_DIR

Starts the sandbox (no bridge: routing falls back to the default queue, so the queue calls
go to "main" unless moved), registers SIPp phones and writes what Asterisk sent:

- ``recorded_agent_state.txt``: an agent added to two queues over AMI (QueueAdd with
  MemberName and StateInterface, as the bridge does), paused in all with a reason, resumed,
  a queue call answered in "sales" (wrapuptime 5 s) then the wrap-up, a pause from
  Asterisk's console (as a supervisor would), removed from both;
- ``recorded_agent_queue_status.txt``: the QueueMember entries of a QueueStatus listing
  taken while the agent was logged in and paused (what the bridge reads on reconnect).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from pathlib import Path

from contact_center.ami import AmiClient, AmiEvent
from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import load_settings
from tests.tools.record_call_life import Recorder

log = logging.getLogger("record_agent_state")
AGENT = "PJSIP/agent-1001"
NAME = "Zofia Łęcka"


async def queue_status(secret: str) -> bytes:
    """The QueueMember events of one QueueStatus listing, as Asterisk sent them."""
    reader, writer = await asyncio.open_connection("127.0.0.1", 5038)
    await reader.readline()
    writer.write(
        f"Action: Login\r\nUsername: contact-center\r\nSecret: {secret}\r\n"
        "Events: off\r\n\r\nAction: QueueStatus\r\nActionID: qs\r\n\r\n".encode()
    )
    await writer.drain()
    kept: list[bytes] = []
    async with asyncio.timeout(10):
        while True:
            frame = await reader.readuntil(b"\r\n\r\n")
            if frame.startswith(b"Event: QueueMember"):
                kept.append(frame)
            if frame.startswith(b"Event: QueueStatusComplete"):
                break
    writer.close()
    await writer.wait_closed()
    return b"".join(kept)


async def record(sandbox: AsteriskSandbox, ami: AmiClient, out: Path) -> None:
    secret = (await asyncio.to_thread(sandbox.ami_secret_file().read_text)).strip()
    recorder = Recorder(secret)
    async with (
        AgentPhone(sandbox, "agent-1001", 5071, answer_after=0.5, talk_seconds=None),
        recorder.recording(),
    ):
        for queue in ("sales", "support-en"):
            await ami.action(
                "QueueAdd", Queue=queue, Interface=AGENT, MemberName=NAME, StateInterface=AGENT
            )
        await asyncio.sleep(0.5)
        await ami.queue_pause(None, AGENT, True, "Przerwa obiadowa")
        await asyncio.sleep(0.5)
        listing = await queue_status(secret)
        await asyncio.to_thread((out / "recorded_agent_queue_status.txt").write_bytes, listing)
        await ami.queue_pause(None, AGENT, False)
        await asyncio.sleep(0.5)
        await sandbox.cli("dialplan set global CC_DEFAULT_QUEUE sales")
        try:
            result = await place_call(
                sandbox, caller_number="+48221000009", caller_name="Sales Caller", hold_seconds=1.0
            )
            log.info("sales call: %s", result.outcome)
        finally:
            await sandbox.cli("dialplan set global CC_DEFAULT_QUEUE main")
        await asyncio.sleep(6.0)  # the wrap-up (5 s) runs out
        await sandbox.cli(f"queue pause member {AGENT} queue support-en reason Coaching")
        await asyncio.sleep(0.5)
        for queue in ("sales", "support-en"):
            await ami.queue_remove(queue, AGENT)
    path = out / "recorded_agent_state.txt"
    await asyncio.to_thread(path.write_bytes, b"".join(recorder.frames))
    log.info("%s: %d events", path, len(recorder.frames))


async def main(out: Path) -> None:
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
                await record(sandbox, ami, out)
            finally:
                await ami.close()
                await runner
        finally:
            await sandbox.down()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main(args.out))
