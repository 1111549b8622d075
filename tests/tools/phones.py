"""Agent phones that do what the stock sandbox phone does not: refuse a call (busy, decline),
or answer and put the caller on hold for a while (a re-INVITE with ``a=sendonly``, then
``a=sendrecv``). For recording AMI fixtures and for end-to-end tests; built on the sandbox's
own SIPp plumbing, so they register like any agent phone."""

from __future__ import annotations

import asyncio
from types import TracebackType

from contact_center.errors import SandboxError
from contact_center.sandbox.asterisk import AsteriskSandbox
from contact_center.sandbox.sipp import (
    PHONE_IP,
    AgentPhone,
    _sipp_args,
    csv_line,
    render_scenario,
)

_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="contact_center test phone">
  <recv request="INVITE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_party" />
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="local_party" />
      <ereg regexp="sip:[^&gt;;]*" search_in="hdr" header="Contact:" assign_to="remote_uri" />
    </action>
  </recv>
"""

_REFUSE = """
  <send>
    <![CDATA[

      SIP/2.0 {{code}}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" />
</scenario>
"""

_SDP = """Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 {{version}} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a={{direction}}
"""


def _reinvite(cseq: int, direction: str) -> str:
    sdp = _SDP.replace("{{version}}", str(cseq + 1)).replace("{{direction}}", direction)
    return f"""
  <send retrans="500">
    <![CDATA[

      INVITE [$remote_uri] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local_party];tag=[pid]SIPpTag01[call_number]
      To: [$remote_party]
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      {sdp}
    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="200" />
  <send>
    <![CDATA[

      ACK [$remote_uri] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local_party];tag=[pid]SIPpTag01[call_number]
      To: [$remote_party]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""


def _holding(answer_ms: int, hold_after_ms: int, hold_ms: int) -> str:
    answer_sdp = _SDP.replace("{{version}}", "1").replace("{{direction}}", "sendrecv")
    return (
        _HEAD
        + f"""
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="{answer_ms}" />
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      {answer_sdp}
    ]]>
  </send>
  <recv request="ACK" />
  <pause milliseconds="{hold_after_ms}" />
"""
        + _reinvite(1, "sendonly")
        + f'\n  <pause milliseconds="{hold_ms}" />\n'
        + _reinvite(2, "sendrecv")
        + """
  <recv request="BYE" />
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""
    )


class ScriptedPhone(AgentPhone):
    """A registered agent phone running a scenario of this module (one per INVITE)."""

    def __init__(self, sandbox: AsteriskSandbox, endpoint: str, port: int, scenario: str) -> None:
        super().__init__(sandbox, endpoint, port)
        self._scenario = scenario

    @classmethod
    def refusing(
        cls, sandbox: AsteriskSandbox, endpoint: str, port: int, code: str = "486 Busy Here"
    ) -> ScriptedPhone:
        """Answers every INVITE with `code` (486 Busy Here, 603 Decline, ...)."""
        head = _HEAD.split("  <recv request=")[0] + '  <recv request="INVITE" />\n'
        return cls(sandbox, endpoint, port, head + _REFUSE.replace("{{code}}", code))

    @classmethod
    def holding(
        cls,
        sandbox: AsteriskSandbox,
        endpoint: str,
        port: int,
        *,
        answer_after: float,
        hold_after: float,
        hold_seconds: float,
    ) -> ScriptedPhone:
        """Answers, puts the caller on hold after `hold_after` s for `hold_seconds`, then
        waits for the caller's BYE."""
        text = _holding(int(answer_after * 1000), int(hold_after * 1000), int(hold_seconds * 1000))
        return cls(sandbox, endpoint, port, text)

    async def start(self) -> None:
        passwords = await asyncio.to_thread(self.sandbox.agent_secrets)
        if self.endpoint not in passwords:
            raise SandboxError(f"no SIP password for {self.endpoint!r}")
        password = passwords[self.endpoint]
        files = {
            "phone.xml": self._scenario,
            "register.xml": render_scenario("register.xml"),
            "register.csv": "SEQUENTIAL\n"
            + csv_line(self.endpoint, password, str(self.port), "3600"),
            "unregister.csv": "SEQUENTIAL\n"
            + csv_line(self.endpoint, password, str(self.port), "0"),
        }
        await asyncio.to_thread(self._work.create, files)
        args = _sipp_args(self.sandbox.root, self._work, "phone.xml")
        args += ["-i", PHONE_IP, "-p", str(self.port)]
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.sleep(0.2)
            if self._proc.returncode is not None:
                raise SandboxError(f"test phone {self.endpoint} SIPp exited at start")
            await self._register("register.csv")
        except BaseException:
            await self.stop()
            raise

    async def __aenter__(self) -> ScriptedPhone:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
