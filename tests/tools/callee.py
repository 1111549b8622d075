"""A SIPp callee on the carrier trunk's side (127.0.0.2): answers the calls Asterisk sends
out through the trunk, like a customer's phone, and logs the number each INVITE asked for."""

from __future__ import annotations

import asyncio
import re

from contact_center.errors import SandboxError
from contact_center.sandbox import AgentPhone, AsteriskSandbox, _proc
from contact_center.sandbox.sipp import TRUNK_IP, _sipp_args, render_scenario

_DIALED = re.compile(r"CC-CALLEE dialed (\S+)")


class TrunkCallee(AgentPhone):
    """Listens on TRUNK_IP:`port` (no registration: the trunk is found by address)."""

    def __init__(self, sandbox: AsteriskSandbox, port: int, *, answer_after: float = 0.5) -> None:
        super().__init__(sandbox, "callee", port, answer_after=answer_after, talk_seconds=None)

    async def start(self) -> None:
        scenario = render_scenario(
            "agent.xml", answer_ms=str(max(1, int(self.answer_after * 1000))), talk_wait=""
        ).replace(
            '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_party" />',
            '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_party" />\n'
            '      <ereg regexp="INVITE sip:([^@;]*)" search_in="msg" check_it="true"'
            ' assign_to="invite_line,dialed" />\n'
            '      <log message="CC-CALLEE dialed [$dialed] from [$invite_line]" />',
            1,
        )
        await asyncio.to_thread(self._work.create, {"callee.xml": scenario})
        args = _sipp_args(self.sandbox.root, self._work, "callee.xml")
        args += ["-i", TRUNK_IP, "-p", str(self.port)]
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(0.2)
        if self._proc.returncode is not None:
            assert self._proc.stderr is not None
            errors = (await self._proc.stderr.read()).decode(errors="replace")
            await self.stop()
            raise SandboxError(f"the trunk callee's SIPp exited at start: {errors[-1000:]}")

    async def stop(self) -> None:
        if self._proc is not None:
            await _proc.stop_process(self._proc)
            self._proc = None
        await asyncio.to_thread(self._work.remove)

    async def dialed(self) -> list[str]:
        """The number (request-URI user) of every INVITE so far."""
        text = await asyncio.to_thread(self._work.read, "calls.log")
        return _DIALED.findall(text)
