"""Commands to the bridge: request and reply over the in-memory bus and over real Redis,
and the bridge's side of them against a loopback AMI server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.driver_info import DriverInfo

from contact_center.agents.bridge_side import AgentCommands
from contact_center.ami import AmiClient, AmiEvent
from contact_center.bus.commands import (
    REPLY_PREFIX,
    Command,
    Commands,
    MemoryCommands,
    RedisCommands,
    Reply,
)
from contact_center.errors import BridgeUnavailable
from contact_center.settings import load_settings
from tests.ami.fake_ami import SECRET, USERNAME, FakeAmi, Session

REDIS_URL = "redis://127.0.0.1:6379/9"


async def redis_client() -> Redis:
    """Built off the loop: redis-py looks its own version up on disk."""
    driver = await asyncio.to_thread(DriverInfo)
    return Redis.from_url(REDIS_URL, driver_info=driver)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def channel(request: pytest.FixtureRequest) -> AsyncIterator[Commands]:
    if request.param == "memory":
        yield MemoryCommands(timeout=0.5)
        return
    redis = await redis_client()
    try:
        yield RedisCommands(redis, timeout=0.5)
    finally:
        await redis.aclose()


async def serving(channel: Commands, node: str, handler: object) -> asyncio.Task[None]:
    task = asyncio.create_task(channel.serve(node, handler))  # type: ignore[arg-type]
    await asyncio.sleep(0.1)  # subscribed
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_command_reaches_its_nodes_bridge_and_the_reply_comes_back(
    channel: Commands,
) -> None:
    node = f"n-{uuid.uuid4().hex[:8]}"
    seen: list[Command] = []

    async def handler(command: Command) -> Reply:
        seen.append(command)
        return Reply(True, data={"echo": command.args["x"]})

    async def other(command: Command) -> Reply:
        raise AssertionError("the other node's bridge must not get it")

    task = await serving(channel, node, handler)
    elsewhere = await serving(channel, node + "-other", other)
    try:
        reply = await channel.request(node, "queue_add", {"x": "Zażółć"})
        assert reply == Reply(True, data={"echo": "Zażółć"})
        [command] = seen
        assert (command.node, command.name, dict(command.args)) == (
            node,
            "queue_add",
            {"x": "Zażółć"},
        )
        refused = Reply(False, "invalid", "bad queue")
        seen.clear()

        async def refusing(command: Command) -> Reply:
            return refused

        await stop(task)
        task = await serving(channel, node, refusing)
        assert await channel.request(node, "queue_add", {}) == refused
    finally:
        await stop(task)
        await stop(elsewhere)


async def test_no_bridge_for_the_node_is_bridge_unavailable_at_once(channel: Commands) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(BridgeUnavailable, match="no bridge runs for node"):
        await channel.request(f"n-{uuid.uuid4().hex[:8]}", "queue_add", {})
    assert loop.time() - started < 0.4


async def test_a_bridge_that_does_not_answer_in_time_is_bridge_unavailable(
    channel: Commands,
) -> None:
    node = f"n-{uuid.uuid4().hex[:8]}"

    async def stuck(command: Command) -> Reply:
        await asyncio.sleep(10)
        return Reply(True)

    task = await serving(channel, node, stuck)
    try:
        with pytest.raises(BridgeUnavailable, match=r"did not answer queue_pause in 0\.5 s"):
            await channel.request(node, "queue_pause", {})
    finally:
        await stop(task)


@pytest.mark.redis
async def test_redis_replies_expire_and_malformed_commands_are_dropped() -> None:
    redis = await redis_client()
    channel = RedisCommands(redis, timeout=1.0)
    node = f"n-{uuid.uuid4().hex[:8]}"
    answered: list[str] = []

    async def handler(command: Command) -> Reply:
        answered.append(command.request_id)
        return Reply(True)

    task = await serving(channel, node, handler)
    try:
        assert await redis.publish(f"cc:bridge:{node}", "not json") == 1
        assert await redis.publish(f"cc:bridge:{node}", '{"node": 1}') == 1
        reply = await channel.request(node, "queue_add", {})
        assert reply.ok
        assert len(answered) == 1
        # a reply nobody popped (say the web timed out) expires
        late = Command(node, "queue_add", {})
        await redis.publish(f"cc:bridge:{node}", late.encode())
        await asyncio.sleep(0.2)
        assert 0 < await redis.ttl(REPLY_PREFIX + late.request_id) <= 30
    finally:
        await stop(task)
        await redis.aclose()


# --- the bridge's side, against a loopback AMI server -----------------------------------


@pytest.fixture
async def ami() -> AsyncIterator[tuple[FakeAmi, AmiClient]]:
    server = FakeAmi()
    await server.start()

    async def originate(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        return [{"Response": "Success", "Message": "Originate successfully queued"}]

    server.handlers["originate"] = originate
    settings = load_settings(
        {"CC_AMI_SECRET": SECRET}, ami_port=server.port, ami_user=USERNAME, ami_action_timeout=2.0
    )
    client = AmiClient(settings, asyncio.Queue[AmiEvent]())
    runner = asyncio.create_task(client.run())
    try:
        await client.wait_connected(5)
        yield server, client
    finally:
        await client.close()
        await runner
        await server.stop()


def sent(server: FakeAmi, action: str) -> list[dict[str, str]]:
    return [
        {k: v for k, v in f.items() if k != "ActionID"}
        for f in server.received
        if f.get("Action") == action
    ]


async def test_queue_add_sends_member_name_and_state_interface(
    ami: tuple[FakeAmi, AmiClient],
) -> None:
    server, client = ami
    reply = await AgentCommands(client).handle(
        Command(
            "n1",
            "queue_add",
            {"queue": "support-pl", "interface": "PJSIP/agent-1001", "member_name": "Anna Nowak"},
        )
    )
    assert reply.ok
    assert sent(server, "QueueAdd") == [
        {
            "Action": "QueueAdd",
            "Queue": "support-pl",
            "Interface": "PJSIP/agent-1001",
            "MemberName": "Anna Nowak",
            "StateInterface": "PJSIP/agent-1001",
            "Paused": "false",
        }
    ]


async def test_pause_resume_and_originate_fields(ami: tuple[FakeAmi, AmiClient]) -> None:
    server, client = ami
    commands = AgentCommands(client)
    interface = "PJSIP/agent-1001"
    pause = {"interface": interface, "paused": "1", "reason": "Przerwa obiadowa"}
    assert (await commands.handle(Command("n1", "queue_pause", pause))).ok
    resume = {"interface": interface, "paused": "0", "reason": "ignored"}
    assert (await commands.handle(Command("n1", "queue_pause", resume))).ok
    assert sent(server, "QueuePause") == [
        {
            "Action": "QueuePause",
            "Interface": interface,
            "Paused": "true",
            "Reason": "Przerwa obiadowa",
        },
        {"Action": "QueuePause", "Interface": interface, "Paused": "false"},
    ]
    call = {"interface": interface, "number": "+48221234567"}
    reply = await commands.handle(Command("n1", "originate", call))
    assert reply.ok
    assert reply.message == "Originate successfully queued"
    assert sent(server, "Originate") == [
        {
            "Action": "Originate",
            "Channel": interface,
            "Context": "cc-outbound",
            "Exten": "s",
            "Priority": "1",
            "CallerID": "+48221234567",
            "Variable": "CC_DIAL_NUMBER=+48221234567",
            "Timeout": "30000",
            "Async": "true",
        }
    ]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        (
            "queue_add",
            {
                "queue": "main\r\nAction: Originate",
                "interface": "PJSIP/agent-1001",
                "member_name": "A",
            },
        ),
        ("queue_add", {"queue": "main", "interface": "SIP/agent-1001", "member_name": "A"}),
        ("queue_add", {"queue": "main", "interface": "PJSIP/agent-1001", "member_name": "A\nB"}),
        ("queue_add", {"queue": "main", "interface": "PJSIP/agent-1001", "member_name": ""}),
        ("queue_pause", {"interface": "PJSIP/agent-1001", "paused": "1", "reason": "x\ry"}),
        ("queue_pause", {"interface": "PJSIP/agent-1001", "queue": "no such!", "paused": "1"}),
        ("originate", {"interface": "PJSIP/agent-1001", "number": "0048221234567"}),
        ("originate", {"interface": "PJSIP/agent-1001", "number": "+48221234567,1"}),
        ("originate", {"interface": "PJSIP/agent-1001", "number": "+48221234567&PJSIP/x"}),
        ("originate", {"interface": "Local/1@from-trunk", "number": "+48221234567"}),
    ],
)
async def test_the_bridge_checks_every_argument_again(
    ami: tuple[FakeAmi, AmiClient], name: str, args: dict[str, str]
) -> None:
    server, client = ami
    before = len(server.received)
    reply = await AgentCommands(client).handle(Command("n1", name, args))
    assert (reply.ok, reply.error) == (False, "invalid")
    assert len(server.received) == before  # nothing reached Asterisk


async def test_asterisk_refusals_and_a_lost_link_become_stable_errors(
    ami: tuple[FakeAmi, AmiClient],
) -> None:
    server, client = ami
    commands = AgentCommands(client)

    async def already(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        return [{"Response": "Error", "Message": "Unable to add interface: Already there"}]

    async def refused(session: Session, fields: dict[str, str]) -> list[dict[str, str]]:
        return [{"Response": "Error", "Message": "Originate failed"}]

    server.handlers["queueadd"] = already
    server.handlers["originate"] = refused
    add = {"queue": "main", "interface": "PJSIP/agent-1001", "member_name": "A"}
    assert await commands.handle(Command("n1", "queue_add", add)) == Reply(
        True, data={"already": True}
    )
    call = {"interface": "PJSIP/agent-1001", "number": "+48221234567"}
    assert await commands.handle(Command("n1", "originate", call)) == Reply(
        False, "asterisk_refused", "Originate failed"
    )
    assert (await commands.handle(Command("n1", "reboot", {}))).error == "unknown_command"
    await client.close()
    reply = await commands.handle(Command("n1", "queue_add", add))
    assert (reply.ok, reply.error) == (False, "ami_unavailable")
