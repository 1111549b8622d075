"""The real Asterisk sandbox: config loads, phones register, a call reaches an agent."""

from __future__ import annotations

import asyncio
import csv
import random
import re
from pathlib import Path

import pytest

from contact_center.sandbox import AgentPhone, AsteriskSandbox, place_call
from contact_center.settings import PROJECT_ROOT

pytestmark = pytest.mark.sandbox

AGENTS = [f"agent-{n}" for n in range(1001, 1007)]


def _caller_number() -> str:
    return f"+4860{random.randrange(10**7):07d}"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


async def test_up_runs_asterisk_22(sandbox: AsteriskSandbox) -> None:
    status = await sandbox.status()
    assert status.running
    assert status.pid is not None
    assert status.version is not None
    assert status.version.startswith("22.")


async def test_endpoints_trunk_and_agents(sandbox: AsteriskSandbox) -> None:
    endpoints = await sandbox.cli("pjsip show endpoints")
    names = set(re.findall(r"Endpoint:\s+(\S+?)(?:/\S*)?\s", endpoints))
    assert {"trunk", *AGENTS} <= names
    identify = await sandbox.cli("pjsip show identifies")
    assert "127.0.0.2/32" in identify


async def test_used_modules_are_running(sandbox: AsteriskSandbox) -> None:
    for module in (
        "res_agi",
        "res_speech",
        "chan_pjsip",
        "res_pjsip_registrar",
        "res_pjsip_endpoint_identifier_ip",
        "app_queue",
        "app_dial",
        "app_exec",
        "app_chanspy",
        "func_strings",
        "cdr_csv",
        "bridge_simple",
        "bridge_native_rtp",
        "res_timing_timerfd",
    ):
        shown = await sandbox.cli(f"module show like {module}")
        assert re.search(rf"^{module}\.so\s.*\bRunning\b", shown, re.MULTILINE), shown


async def test_queues_exist_including_main(sandbox: AsteriskSandbox) -> None:
    for queue in (
        "main",
        "vip",
        "collections",
        "support-pl",
        "support-uk",
        "support-en",
        "overflow",
    ):
        shown = await sandbox.cli(f"queue show {queue}")
        assert shown.startswith(f"{queue} has 0 calls"), shown
        assert "'rrmemory' strategy" in shown


def _committed_config() -> list[str]:
    return [
        path.read_text(encoding="utf-8")
        for folder in ("asterisk-config", "dialplans")
        for path in (PROJECT_ROOT / folder).glob("*")
    ]


async def test_ami_user_and_secret(sandbox: AsteriskSandbox) -> None:
    shown = await sandbox.cli("manager show user contact-center")
    assert "secret: <Set>" in shown
    assert "read perm: system,call,agent" in shown
    assert "write perm: call,agent,reporting" in shown
    secret = (await asyncio.to_thread(sandbox.ami_secret_file().read_text)).strip()
    assert len(secret) >= 24
    mode = (await asyncio.to_thread(sandbox.ami_secret_file().stat)).st_mode
    assert mode & 0o077 == 0
    committed = await asyncio.to_thread(_committed_config)
    assert not any(secret in text for text in committed)
    passwords = (await asyncio.to_thread(sandbox.agent_secrets)).values()
    assert not any(password in text for text in committed for password in passwords)


async def test_ami_listens_on_loopback_only(sandbox: AsteriskSandbox) -> None:
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in _lines(Path(table))[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port = local.split(":")
            if state == "0A" and int(port, 16) == 5038:
                listening.append(address)
    assert listening == ["0100007F"]
    reader, writer = await asyncio.open_connection("127.0.0.1", 5038)
    try:
        banner = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert banner.startswith(b"Asterisk Call Manager/")


async def test_agent_phone_registers(sandbox: AsteriskSandbox) -> None:
    async with AgentPhone(sandbox, "agent-1003", 5073):
        contacts = await sandbox.cli("pjsip show contacts")
        assert "agent-1003/sip:agent-1003@127.0.0.1:5073" in contacts
    contacts = await sandbox.cli("pjsip show contacts")
    assert "agent-1003@" not in contacts


async def test_call_without_bridge_falls_back_to_main(sandbox: AsteriskSandbox) -> None:
    number = _caller_number()
    name = '"><script>alert(1)</script> Zażółć Gęślą Jaźń'
    async with AgentPhone(
        sandbox, "agent-1001", 5071, answer_after=0.5, talk_seconds=None
    ) as phone:
        await sandbox.cli(f"queue add member {phone.interface} to main")
        try:
            result = await place_call(
                sandbox, caller_number=number, caller_name=name, hold_seconds=1.0, timeout=20
            )
        finally:
            await sandbox.cli(f"queue remove member {phone.interface} from main")
        assert result.outcome == "caller-hangup", result
        assert result.answered
        assert await phone.answered_calls() == 1

    queue_log = [line.split("|") for line in _lines(sandbox.queue_log())]
    entered = [row for row in queue_log if row[4] == "ENTERQUEUE" and row[6] == number]
    assert len(entered) == 1
    assert entered[0][2] == "main"
    call_uid = entered[0][1]
    connects = [row for row in queue_log if row[1] == call_uid and row[4] == "CONNECT"]
    assert len(connects) == 1
    assert connects[0][2:4] == ["main", "PJSIP/agent-1001"]

    records = list(csv.reader(_lines(sandbox.cdr_csv())))
    mine = [row for row in records if row[1] == number]
    assert len(mine) == 1
    # PJSIP keeps the quoted-pair: the '"' arrives backslash-escaped, the rest intact
    assert mine[0][4].endswith(f'><script>alert(1)</script> Zażółć Gęślą Jaźń" <{number}>')
    assert mine[0][14] == "ANSWERED"
    assert mine[0][7:9] == ["Queue", "main,tr,,,300"]


async def test_strange_dialed_number_still_queues_and_can_abandon(
    sandbox: AsteriskSandbox,
) -> None:
    number = _caller_number()
    result = await place_call(
        sandbox,
        caller_number=number,
        caller_name="Олена Коваленко",
        dialed="800,1)${EXTEN}|Dial(PJSIP/x)",
        hangup_after=1.0,
        timeout=10,
    )
    assert result.outcome == "abandoned", result
    assert not result.answered
    queue_log = [line.split("|") for line in _lines(sandbox.queue_log())]
    entered = [row for row in queue_log if row[4] == "ENTERQUEUE" and row[6] == number]
    assert len(entered) == 1
    assert entered[0][2] == "main"
    assert any(row[1] == entered[0][1] and row[4] == "ABANDON" for row in queue_log)


async def test_restart_keeps_secrets(sandbox: AsteriskSandbox) -> None:
    before = await sandbox.status()
    secret = await asyncio.to_thread(sandbox.ami_secret_file().read_text)
    await sandbox.restart()
    after = await sandbox.status()
    assert after.running
    assert after.pid != before.pid
    assert await asyncio.to_thread(sandbox.ami_secret_file().read_text) == secret
    assert "secret: <Set>" in await sandbox.cli("manager show user contact-center")


async def test_fastagi_answer_picks_the_queue(sandbox: AsteriskSandbox) -> None:
    """A stand-in for the bridge's FastAGI server: the queue in its CC_ROUTE decides."""
    seen: dict[str, str] = {}

    async def route(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (line := (await reader.readline()).decode()) not in ("\n", ""):
            key, _, value = line.rstrip("\n").partition(": ")
            seen[key] = value
        for command in ('SET VARIABLE CC_ROUTE "vip^5"', 'SET VARIABLE CC_ROUTE_REASON "test"'):
            writer.write(f"{command}\n".encode())
            await writer.drain()
            assert (await reader.readline()).startswith(b"200 result=1")
        writer.close()

    try:
        server = await asyncio.start_server(route, "127.0.0.1", 4573)
    except OSError:
        pytest.skip("something else listens on the FastAGI port 4573")
    number = _caller_number()
    try:
        async with AgentPhone(sandbox, "agent-1002", 5072, talk_seconds=0.5) as phone:
            await sandbox.cli(f"queue add member {phone.interface} to vip")
            try:
                result = await place_call(
                    sandbox,
                    caller_number=number,
                    caller_name="Jan",
                    dialed="+48221234567",
                    hold_seconds=5.0,
                    timeout=20,
                )
            finally:
                await sandbox.cli(f"queue remove member {phone.interface} from vip")
    finally:
        server.close()
        await server.wait_closed()
    assert result.outcome == "agent-hangup", result
    assert seen["agi_network_script"] == "route"
    assert seen["agi_callerid"] == number
    assert seen["agi_dnid"] == "+48221234567"
    queue_log = [line.split("|") for line in _lines(sandbox.queue_log())]
    assert any(row[4] == "ENTERQUEUE" and row[6] == number and row[2] == "vip" for row in queue_log)


async def test_down_stops_asterisk(sandbox: AsteriskSandbox) -> None:
    await sandbox.down()
    assert not (await sandbox.status()).running
    await sandbox.down()  # idempotent
