"""AmiClient against the loopback fake AMI, friendly and hostile."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import pytest

from contact_center.ami import AmiClient, AmiConnected, AmiDisconnected, AmiEvent
from contact_center.ami import events as ev
from contact_center.errors import (
    AmiActionFailed,
    AmiBadInput,
    AmiLoginFailed,
    AmiTimeout,
    AmiUnavailable,
)
from contact_center.settings import Secret, Settings

from .fake_ami import FakeAmi, Session

E = TypeVar("E", bound=AmiEvent)
CLIENT_LOG = "contact_center.ami.client"


def settings_for(fake: FakeAmi, timeout: float = 0.5) -> Settings:
    return Settings(
        ami_host="127.0.0.1",
        ami_port=fake.port,
        ami_user="cc",
        ami_secret=Secret("s3cret"),
        ami_action_timeout=timeout,
    )


@asynccontextmanager
async def running(
    fake: FakeAmi,
    *,
    action_timeout: float = 0.5,
    queue_size: int = 100,
    ping_interval: float = 30.0,
    wait: bool = True,
) -> AsyncIterator[tuple[AmiClient, asyncio.Queue[AmiEvent]]]:
    events: asyncio.Queue[AmiEvent] = asyncio.Queue(queue_size)
    client = AmiClient(
        settings_for(fake, action_timeout), events, ping_interval=ping_interval, backoff=(0.05, 0.2)
    )
    task = asyncio.create_task(client.run())
    try:
        if wait:
            await client.wait_connected(3.0)
        yield client, events
    finally:
        await client.close()
        await asyncio.wait_for(task, 2.0)


async def next_of(events: asyncio.Queue[AmiEvent], kind: type[E], within: float = 3.0) -> E:
    async with asyncio.timeout(within):
        while True:
            event = await events.get()
            if isinstance(event, kind):
                return event


def unavailable_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == CLIENT_LOG
        and r.levelno == logging.WARNING
        and r.getMessage().startswith("AMI unavailable")
    ]


def back_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == CLIENT_LOG and r.getMessage().startswith("AMI back")
    ]


def newstate(uniqueid: str, name: str) -> dict[str, str]:
    return {
        "Event": "Newstate",
        "Timestamp": "1718093110.5",
        "Channel": "PJSIP/trunk-00000001",
        "ChannelStateDesc": "Ring",
        "CallerIDNum": "+48221234567",
        "CallerIDName": name,
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
    }


async def test_logs_in_and_emits_connected_before_the_first_event(fake_ami: FakeAmi) -> None:
    async with running(fake_ami) as (client, events):
        assert client.connected
        first = await asyncio.wait_for(events.get(), 1)
        assert isinstance(first, AmiConnected)
        assert first.version == "6.0.0"
        assert first.timestamp == pytest.approx(time.time(), abs=5)
        second = await asyncio.wait_for(events.get(), 1)
        assert isinstance(second, ev.FullyBooted)
        login = fake_ami.received[0]
        assert login["Action"] == "Login"
        assert (login["Username"], login["Secret"], login["Events"]) == ("cc", "s3cret", "on")
        assert login["ActionID"]
    assert not client.connected


async def test_slow_link_one_byte_per_write(fake_ami: FakeAmi) -> None:
    fake_ami.slow = True
    async with running(fake_ami, action_timeout=3.0) as (client, events):
        await fake_ami.event(newstate("1.1", "Zażółć Gęślą Jaźń"))
        event = await next_of(events, ev.Newstate)
        assert event.channel.caller_name == "Zażółć Gęślą Jaźń"
        assert (await client.action("Ping"))["Ping"] == "Pong"


@pytest.mark.parametrize("name", ["Zażółć Gęślą Jaźń", "Олена Коваленко"])
async def test_a_character_split_across_two_reads_arrives_intact(
    fake_ami: FakeAmi, name: str
) -> None:
    async with running(fake_ami) as (_client, events):
        fields = newstate("2.2", name)
        data = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()
        fake_ami.split_at = data.index(name[-1].encode()) + 1  # inside the last character
        assert len(name[-1].encode()) == 2
        await fake_ami.event(fields)
        event = await next_of(events, ev.Newstate)
        assert event.channel.caller_name == name


async def test_garbage_and_non_utf8_do_not_break_the_link(fake_ami: FakeAmi) -> None:
    async with running(fake_ami) as (client, events):
        await fake_ami.raw_to_all(
            b"\xff\xfe\x00 garbage\r\nno colon here\r\n\r\n\x00\x01\x02\r\n\r\n"
            b"Event: Newstate\r\nCallerIDName: caf\xe9\r\nUniqueid: 3.3\r\n\r\n"
            + "Event: Newstate\r\nUniqueid: 4.4\r\nCallerIDName: Олена\r\n\r\n".encode()
        )
        mangled = await next_of(events, ev.Newstate)
        assert (mangled.channel.uniqueid, mangled.channel.caller_name) == ("3.3", "caf\ufffd")
        clean = await next_of(events, ev.Newstate)
        assert (clean.channel.uniqueid, clean.channel.caller_name) == ("4.4", "Олена")
        assert client.connected
        assert (await client.action("Ping"))["Ping"] == "Pong"


async def test_actions_lists_and_errors(fake_ami: FakeAmi) -> None:
    async def refuse(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        return [{"Response": "Error", "Message": "Permission denied"}]

    fake_ami.handlers["coreshowchannels"] = refuse
    async with running(fake_ami) as (client, _events):
        pong = await client.action("Ping")
        assert pong["Response"] == "Success"
        assert isinstance(pong, dict)
        assert all(isinstance(v, str) for v in pong.values())
        with pytest.raises(AmiActionFailed) as failed:
            await client.action("Nonsense", Foo="bar")
        assert (failed.value.action, failed.value.message) == (
            "Nonsense",
            "Invalid/unknown command",
        )
        entries = await client.action_list("QueueStatus", Queue="general")
        assert [e["Event"] for e in entries] == ["QueueParams", "QueueMember"]
        assert entries[1]["Name"] == "Zażółć Gęślą Jaźń"
        started = time.monotonic()
        with pytest.raises(AmiActionFailed, match="Permission denied"):
            await client.action_list("CoreShowChannels")
        assert time.monotonic() - started < 0.4  # answered, not timed out


async def test_queue_helpers_send_checked_fields(fake_ami: FakeAmi) -> None:
    async with running(fake_ami) as (client, _events):
        await client.queue_add("general", "PJSIP/agent1", "Olena Коваленко", paused=True)
        await client.queue_pause(None, "PJSIP/agent1", True, reason="przerwa ☕")
        await client.queue_pause("general", "PJSIP/agent1", False)
        await client.queue_remove("general", "PJSIP/agent1")
    sent = [f for f in fake_ami.received if f["Action"] != "Login"]
    assert [f["Action"] for f in sent] == ["QueueAdd", "QueuePause", "QueuePause", "QueueRemove"]
    assert sent[0]["MemberName"] == "Olena Коваленко"
    assert sent[0]["Paused"] == "true"
    assert "Queue" not in sent[1]
    assert sent[1]["Reason"] == "przerwa ☕"
    assert sent[2]["Queue"] == "general"
    assert sent[2]["Paused"] == "false"


async def test_injection_is_refused_before_anything_is_sent(fake_ami: FakeAmi) -> None:
    async with running(fake_ami) as (client, _events):
        with pytest.raises(AmiBadInput):
            await client.action("Originate", Channel="PJSIP/1\r\nAction: Hangup")
        with pytest.raises(AmiBadInput):
            await client.action("Originate", Channel="PJSIP/1\nAction: Hangup")
        with pytest.raises(AmiBadInput):
            await client.queue_add("general", "PJSIP/agent1", "Eve\r\nAction: Hangup")
        with pytest.raises(AmiBadInput):
            await client.queue_add("general\r\nAction: Hangup", "PJSIP/agent1", "Eve")
        with pytest.raises(AmiBadInput):
            await client.queue_pause(None, "PJSIP/agent1\r\n", True)
        with pytest.raises(AmiBadInput):
            await client.queue_remove("general", "Local/1@agents")
        await asyncio.sleep(0.05)
    assert [f["Action"] for f in fake_ami.received] == ["Login"]
    assert b"Hangup" not in fake_ami.raw
    assert b"Originate" not in fake_ami.raw


async def test_an_unanswered_action_times_out(fake_ami: FakeAmi) -> None:
    async def never(session: Session, fields: dict[str, str]) -> None:
        return None

    fake_ami.handlers["getvar"] = never
    async with running(fake_ami, action_timeout=0.3) as (client, _events):
        started = time.monotonic()
        with pytest.raises(AmiTimeout, match="Getvar"):
            await client.action("Getvar", Variable="X")
        assert 0.25 < time.monotonic() - started < 1.0
        assert client.connected
        assert (await client.action("Ping"))["Ping"] == "Pong"


async def test_in_flight_action_fails_fast_when_the_link_drops(fake_ami: FakeAmi) -> None:
    async def hang_up(session: Session, fields: dict[str, str]) -> None:
        await asyncio.sleep(0.05)
        session.writer.close()

    fake_ami.handlers["originate"] = hang_up
    async with running(fake_ami, action_timeout=5.0) as (client, events):
        started = time.monotonic()
        with pytest.raises(AmiUnavailable):
            await client.action("Originate", Channel="PJSIP/agent1", Exten="100")
        assert time.monotonic() - started < 1.0
        await next_of(events, AmiDisconnected)
        await next_of(events, AmiConnected)
        assert (await client.action("Ping"))["Ping"] == "Pong"


async def test_reconnects_by_itself_after_an_asterisk_restart(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    async with running(fake_ami) as (client, events):
        await next_of(events, ev.FullyBooted)
        await fake_ami.stop()
        lost = await next_of(events, AmiDisconnected)
        assert lost.reason
        with pytest.raises(AmiUnavailable):
            await client.action("Ping")
        await asyncio.sleep(0.6)  # several refused attempts while it is down
        await fake_ami.start()
        await next_of(events, AmiConnected)
        await next_of(events, ev.FullyBooted)
        assert client.connected
        assert (await client.action("Ping"))["Ping"] == "Pong"
    assert len(unavailable_warnings(caplog)) == 1
    assert len(back_lines(caplog)) == 1
    assert fake_ami.logins == 2


async def test_refused_login_is_reported_once_and_retried(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    fake_ami.mode = "refuse_login"
    async with running(fake_ami, wait=False) as (client, _events):
        with pytest.raises(AmiLoginFailed, match="'cc'"):
            await client.wait_connected(0.8)
        assert fake_ami.logins >= 3
        warnings = unavailable_warnings(caplog)
        assert len(warnings) == 1
        assert "refused" in warnings[0]
        assert "s3cret" not in caplog.text
        fake_ami.mode = "normal"
        await client.wait_connected(2.0)
    assert len(back_lines(caplog)) == 1


@pytest.mark.parametrize("mode", ["close_before_banner", "close_after_banner", "silent"])
async def test_hostile_peers_are_retried_quietly(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    fake_ami.mode = mode
    async with running(fake_ami, action_timeout=0.2, wait=False) as (client, events):
        with pytest.raises(AmiUnavailable):
            await client.wait_connected(0.7)
        assert fake_ami.connections >= 2
        assert len(unavailable_warnings(caplog)) == 1
        fake_ami.mode = "normal"
        await client.wait_connected(2.0)
        first = await asyncio.wait_for(events.get(), 1)
        assert isinstance(first, AmiConnected)
    assert len(back_lines(caplog)) == 1


async def test_a_dead_but_open_link_is_dropped_by_ping(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=CLIENT_LOG)
    async with running(fake_ami, action_timeout=0.3, ping_interval=0.1) as (client, events):
        await next_of(events, ev.FullyBooted)
        fake_ami.sessions[0].muted = True
        lost = await next_of(events, AmiDisconnected, within=2)
        assert "Ping" in lost.reason
        await next_of(events, AmiConnected, within=2)
        assert fake_ami.connections == 2
        assert (await client.action("Ping"))["Ping"] == "Pong"
    assert len(unavailable_warnings(caplog)) == 1


async def test_a_link_that_keeps_talking_is_busy_not_dead(fake_ami: FakeAmi) -> None:
    """Under a burst the Pong waits behind unread events: no answer in time is no proof
    of a dead link while bytes keep coming (the ingest benchmark's replay showed it)."""
    async with running(fake_ami, action_timeout=0.3, ping_interval=0.1) as (_, events):
        await next_of(events, ev.FullyBooted)
        fake_ami.sessions[0].muted = True  # answers nothing, but events still flow
        for i in range(30):  # 1.5 s: five Ping timeouts' worth
            await fake_ami.event(newstate(f"{i}.0", f"Caller {i}"))
            await asyncio.sleep(0.05)
        got = [events.get_nowait() for _ in range(events.qsize())]
        assert not any(isinstance(event, AmiDisconnected) for event in got)
        assert [e.channel.uniqueid for e in got if isinstance(e, ev.Newstate)] == [
            f"{i}.0" for i in range(30)
        ]
        assert fake_ami.connections == 1
        # once it falls silent too, it is dead
        lost = await next_of(events, AmiDisconnected, within=2)
        assert "Ping" in lost.reason


async def test_not_connected_means_unavailable_at_once(fake_ami: FakeAmi) -> None:
    events: asyncio.Queue[AmiEvent] = asyncio.Queue(10)
    client = AmiClient(settings_for(fake_ami), events)
    with pytest.raises(AmiUnavailable):
        await client.action("Ping")
    with pytest.raises(AmiUnavailable):
        await client.wait_connected(0.05)
    assert not client.connected
    await client.close()


async def test_a_full_queue_holds_events_back_in_order(fake_ami: FakeAmi) -> None:
    async with running(fake_ami, queue_size=1) as (client, events):
        for i in range(50):
            await fake_ami.event(newstate(f"{i}.0", f"Caller {i}"))
        assert (await client.action("Ping"))["Ping"] == "Pong"  # the link keeps working
        await asyncio.sleep(0.05)
        assert events.full()
        got = [await asyncio.wait_for(events.get(), 1) for _ in range(52)]
    assert isinstance(got[0], AmiConnected)
    assert isinstance(got[1], ev.FullyBooted)
    ids = [e.channel.uniqueid for e in got[2:] if isinstance(e, ev.Newstate)]
    assert ids == [f"{i}.0" for i in range(50)]


async def test_close_stops_run_and_run_can_be_cancelled(fake_ami: FakeAmi) -> None:
    events: asyncio.Queue[AmiEvent] = asyncio.Queue(10)
    client = AmiClient(settings_for(fake_ami), events)
    task = asyncio.create_task(client.run())
    await client.wait_connected(2)
    await asyncio.wait_for(client.close(), 1)
    assert task.done()
    assert task.exception() is None
    client2 = AmiClient(settings_for(fake_ami), asyncio.Queue(10))
    task2 = asyncio.create_task(client2.run())
    await client2.wait_connected(2)
    task2.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task2
    assert not client2.connected
