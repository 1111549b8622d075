"""The FastAGI server over loopback, against a fake Asterisk and hostile peers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest

from contact_center.agi import AgiRequest, AgiServer, AgiSession, Handler
from contact_center.errors import AgiError, AgiHangup, AgiProtocolError

from .fake_asterisk import (
    CALLER_NAME,
    FakeAsterisk,
    closed_by_server,
    encode_environment,
    environment,
)

LOGGER = "contact_center.agi.server"
FAST = {"env_timeout": 0.3, "command_timeout": 0.3, "handler_timeout": 1.0}


@asynccontextmanager
async def serving(
    routes: Mapping[str, Handler], **options: Any
) -> AsyncIterator[tuple[AgiServer, FakeAsterisk]]:
    async with AgiServer("127.0.0.1", 0, routes, **{**FAST, **options}) as server:
        yield server, FakeAsterisk(server.port)


class Recorder:
    """A handler that remembers the requests it got and what happened to it."""

    def __init__(self) -> None:
        self.requests: list[AgiRequest] = []
        self.errors: list[BaseException] = []

    async def __call__(self, request: AgiRequest, session: AgiSession) -> None:
        self.requests.append(request)
        await session.set_variable("CC_QUEUE", f"q-{request.uniqueid}")


async def wait_idle(server: AgiServer) -> None:
    async with asyncio.timeout(2):
        await server.wait_idle()
    assert server.connections == 0


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


@pytest.fixture(autouse=True)
def _log_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)


# --- ordinary calls --------------------------------------------------------------------------


async def test_call_is_routed_and_answered() -> None:
    seen: dict[str, object] = {}

    async def route(request: AgiRequest, session: AgiSession) -> None:
        seen["request"] = request
        await session.set_variable("CC_QUEUE", "vip")
        seen["lang"] = await session.get_variable("CC_LANG")
        seen["missing"] = await session.get_variable("CC_MISSING")
        seen["num"] = await session.get_full_variable("${CALLERID(num)}")
        await session.verbose(f"routed {request.caller_name}", 3)

    def answer(command: str) -> bytes:
        return {
            "GET VARIABLE CC_LANG": b"200 result=1 (pl)\n",
            "GET VARIABLE CC_MISSING": b"200 result=0\n",
            'GET FULL VARIABLE "${CALLERID(num)}"': b"200 result=1 (+48601234567)\n",
        }.get(command, b"200 result=1\n")

    async with serving({"route": route}) as (server, asterisk):
        call = await asterisk.call(environment(args=("a", "b")), answer=answer)
        await wait_idle(server)

    assert call.commands == [
        'SET VARIABLE CC_QUEUE "vip"',
        "GET VARIABLE CC_LANG",
        "GET VARIABLE CC_MISSING",
        'GET FULL VARIABLE "${CALLERID(num)}"',
        f'VERBOSE "routed {CALLER_NAME}" 3',
    ]
    assert not call.hung_up
    assert not call.reset
    request = seen["request"]
    assert isinstance(request, AgiRequest)
    assert (request.uniqueid, request.caller_name, request.args) == (
        "1732550000.12",
        CALLER_NAME,
        ("a", "b"),
    )
    assert (seen["lang"], seen["missing"], seen["num"]) == ("pl", None, "+48601234567")


async def test_routes_by_script_and_ignores_the_query() -> None:
    got: list[str] = []

    async def one(request: AgiRequest, session: AgiSession) -> None:
        got.append(f"one {request.query.get('q')}")

    async def two(request: AgiRequest, session: AgiSession) -> None:
        got.append("two")

    async with serving({"one": one, "two": two}) as (_, asterisk):
        await asterisk.call(environment("two"))
        await asterisk.call(environment("one", agi_network_script="one?q=vip"))
    assert got == ["two", "one vip"]


async def test_unknown_script_is_closed_without_a_word(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    async with serving({"route": recorder}) as (_, asterisk):
        call = await asterisk.call(environment("nope", uniqueid="1732550000.77"))
    assert call.commands == []
    assert not call.hung_up
    assert recorder.requests == []
    [record] = warnings(caplog)
    assert "1732550000.77" in record.getMessage()
    assert "'nope'" in record.getMessage()


async def test_hostile_value_reaches_asterisk_as_one_line() -> None:
    async def route(request: AgiRequest, session: AgiSession) -> None:
        await session.set_variable("CC_NAME", '"\nEXEC System rm -rf /\n')
        await session.set_variable("CC_NAME2", request.caller_name)

    hostile = environment(caller_name='x" \\ "; EXEC System id')
    async with serving({"route": route}) as (_, asterisk):
        call = await asterisk.call(hostile)
    assert call.commands == [
        'SET VARIABLE CC_NAME "\\" EXEC System rm -rf / "',
        'SET VARIABLE CC_NAME2 "x\\" \\\\ \\"; EXEC System id"',
    ]


async def test_raw_command_cannot_carry_a_second_line() -> None:
    refused: list[ValueError] = []

    async def route(request: AgiRequest, session: AgiSession) -> None:
        try:
            await session.command(b"NOOP\nEXEC System id\n")
        except ValueError as err:
            refused.append(err)
        response = await session.command(b"NOOP\n")
        assert response.result == "1"

    async with serving({"route": route}) as (_, asterisk):
        call = await asterisk.call()
    assert call.commands == ["NOOP"]
    assert len(refused) == 1


# --- hostile peers ---------------------------------------------------------------------------


async def test_connect_then_close_at_once(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    async with serving({"route": recorder}) as (server, asterisk):
        for _ in range(5):
            async with asterisk.connect():
                pass
        await wait_idle(server)
        call = await asterisk.call()
    assert call.commands == ['SET VARIABLE CC_QUEUE "q-1732550000.12"']
    assert len(recorder.requests) == 1
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff\xfe\x00\x01\x80garbage\n\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"agi_network: yes\n\x00\x01\x02\x03\n\n",
    ],
)
async def test_garbage_lines_are_closed(garbage: bytes, caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    async with serving({"route": recorder}) as (_, asterisk):
        async with asterisk.connect() as (reader, writer):
            writer.write(garbage)
            start = time.monotonic()
            assert await closed_by_server(reader) == b""
            assert time.monotonic() - start < FAST["env_timeout"]  # not the env timeout
        await asterisk.call()
    assert len(recorder.requests) == 1
    [record] = warnings(caplog)
    assert "bad environment" in record.getMessage()
    assert "127.0.0.1" in record.getMessage()


async def test_binary_without_newline_then_eof() -> None:
    recorder = Recorder()
    async with (
        serving({"route": recorder}) as (_, asterisk),
        asterisk.connect() as (reader, writer),
    ):
        writer.write(bytes(range(256)).replace(b"\n", b""))
        writer.write_eof()
        assert await closed_by_server(reader) == b""
    assert recorder.requests == []


async def test_env_that_never_ends_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    async with serving({"route": recorder}, env_timeout=0.2) as (server, asterisk):
        async with asterisk.connect() as (reader, writer):
            writer.write(b"agi_network: yes\nagi_uniqueid: 1.2\n\x00binary, no newline")
            start = time.monotonic()
            assert await closed_by_server(reader) == b""
            assert 0.15 < time.monotonic() - start < 1.5
        await wait_idle(server)
    assert recorder.requests == []
    [record] = warnings(caplog)
    assert "no complete environment in time" in record.getMessage()
    assert "127.0.0.1" in record.getMessage()


async def test_env_trickle_is_cut_by_a_total_deadline() -> None:
    """A peer that keeps sending a line now and then must not hold the connection forever."""
    recorder = Recorder()
    async with (
        serving({"route": recorder}, env_timeout=0.3) as (_, asterisk),
        asterisk.connect() as (reader, writer),
    ):
        start = time.monotonic()
        for n in range(1, 100):
            if reader.at_eof():
                break
            writer.write(f"agi_arg_{n}: x\n".encode())
            await asyncio.sleep(0.05)
        assert await closed_by_server(reader) == b""
        assert time.monotonic() - start < 1.5
    assert recorder.requests == []


async def test_slow_link_keeps_split_characters_whole() -> None:
    env = environment(caller_name="żółw Олег")
    assert "ż".encode() == b"\xc5\xbc"  # two bytes: each write splits one
    recorder = Recorder()
    async with serving({"route": recorder}, env_timeout=5.0) as (_, asterisk):
        call = await asterisk.call(env, byte_delay=0.0005)
    [request] = recorder.requests
    assert request.caller_name == "żółw Олег"
    assert request.env == env
    assert call.commands == ['SET VARIABLE CC_QUEUE "q-1732550000.12"']


async def test_invalid_utf8_in_a_name_is_replaced() -> None:
    recorder = Recorder()
    data = encode_environment(environment(caller_name="@@")).replace(b"@@", b"\xc5Z\xff")
    async with (
        serving({"route": recorder}) as (_, asterisk),
        asterisk.connect() as (reader, writer),
    ):
        writer.write(data)
        assert await reader.readline() == b'SET VARIABLE CC_QUEUE "q-1732550000.12"\n'
        writer.write(b"200 result=1\n")
        assert await closed_by_server(reader) == b""
    assert recorder.requests[0].caller_name == "\ufffdZ\ufffd"


async def test_line_over_the_limit_is_closed(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    async with serving({"route": recorder}, max_line=256) as (_, asterisk):
        huge = environment(caller_name="x" * 300)
        async with asterisk.connect() as (reader, writer):
            writer.write(encode_environment(huge))
            assert await closed_by_server(reader) == b""
        # just under the limit still works
        await asterisk.call(environment(caller_name="x" * 200))
    assert [r.caller_name for r in recorder.requests] == ["x" * 200]
    [record] = warnings(caplog)
    assert "line limit" in record.getMessage()


async def test_response_line_over_the_limit_breaks_the_session() -> None:
    outcome: list[BaseException] = []

    async def route(request: AgiRequest, session: AgiSession) -> None:
        try:
            await session.get_variable("CC_X")
        except AgiError as err:
            outcome.append(err)

    async with serving({"route": route}, max_line=256) as (_, asterisk):
        call = await asterisk.call(answer=lambda _: b"200 result=1 (" + b"y" * 1000 + b")\n")
    assert call.commands == ["GET VARIABLE CC_X"]
    assert len(outcome) == 1
    assert isinstance(outcome[0], AgiProtocolError)


async def test_too_many_env_lines_are_closed(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    async with serving({"route": recorder}, max_env_lines=30) as (_, asterisk):
        env = environment(args=tuple(str(n) for n in range(20)))
        async with asterisk.connect() as (reader, writer):
            writer.write(encode_environment(env))
            assert await closed_by_server(reader) == b""
        await asterisk.call(environment(args=("1",)))
    assert [r.args for r in recorder.requests] == [("1",)]
    assert "longer than 30 lines" in warnings(caplog)[0].getMessage()


# --- handlers that misbehave -----------------------------------------------------------------


async def test_handler_that_raises(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def route(request: AgiRequest, session: AgiSession) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        await session.verbose("fine")

    async with serving({"route": route}) as (server, asterisk):
        first = await asterisk.call(environment(uniqueid="1732550000.41"))
        second = await asterisk.call(environment(uniqueid="1732550000.42"))
        await wait_idle(server)
    assert first.commands == []
    assert second.commands == ['VERBOSE "fine" 1']
    [record] = warnings(caplog)
    assert record.levelno == logging.ERROR
    assert "1732550000.41" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_handler_that_hangs_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    cancelled = asyncio.Event()

    async def route(request: AgiRequest, session: AgiSession) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with serving({"route": route}, handler_timeout=0.2) as (_, asterisk):
        start = time.monotonic()
        call = await asterisk.call(environment(uniqueid="1732550000.51"), within=2)
        assert 0.15 < time.monotonic() - start < 1.5
    assert call.commands == []
    assert cancelled.is_set()
    [record] = warnings(caplog)
    assert "1732550000.51" in record.getMessage()
    assert "cut after 0.2s" in record.getMessage()


async def test_handler_own_timeout_is_an_error_not_a_cut(caplog: pytest.LogCaptureFixture) -> None:
    async def route(request: AgiRequest, session: AgiSession) -> None:
        raise TimeoutError("the CRM did not answer")

    async with serving({"route": route}) as (_, asterisk):
        await asterisk.call(environment(uniqueid="1732550000.52"))
    [record] = warnings(caplog)
    assert record.levelno == logging.ERROR
    assert "1732550000.52" in record.getMessage()
    assert "raised" in record.getMessage()


# --- the channel going away and error answers ------------------------------------------------


async def run_until_error(answer: Any, **options: Any) -> tuple[list[str], list[BaseException]]:
    """A handler sends three commands; returns what Asterisk got and the errors seen."""
    errors: list[BaseException] = []

    async def route(request: AgiRequest, session: AgiSession) -> None:
        for n in range(3):
            try:
                await session.set_variable(f"CC_{n}", "x")
            except AgiError as err:
                errors.append(err)

    async with serving({"route": route}, **options) as (server, asterisk):
        call = await asterisk.call(answer=answer)
        await wait_idle(server)
    return call.commands, errors


async def test_hangup_line_mid_conversation() -> None:
    replies = iter([b"200 result=1\n", b"HANGUP\n"])
    commands, errors = await run_until_error(lambda _: next(replies))
    # the third command is not sent: the session knows the channel is gone
    assert commands == ['SET VARIABLE CC_0 "x"', 'SET VARIABLE CC_1 "x"']
    assert [type(err) for err in errors] == [AgiHangup, AgiHangup]


async def test_eof_while_waiting_is_a_hangup() -> None:
    commands, errors = await run_until_error(lambda _: b"")
    assert commands == ['SET VARIABLE CC_0 "x"']
    assert [type(err) for err in errors] == [AgiHangup, AgiHangup, AgiHangup]


async def test_511_is_a_hangup() -> None:
    reply = b"511 Command Not Permitted on a dead channel or intercept routine\n"
    commands, errors = await run_until_error(lambda _: reply)
    assert commands == ['SET VARIABLE CC_0 "x"']
    assert [type(err) for err in errors] == [AgiHangup, AgiHangup, AgiHangup]
    assert "dead channel" in str(errors[0])


async def test_510_is_a_protocol_error_and_the_session_goes_on() -> None:
    replies = iter([b"510 Invalid or unknown command\n", b"200 result=1\n", b"200 result=1\n"])
    commands, errors = await run_until_error(lambda _: next(replies))
    assert len(commands) == 3
    [error] = errors
    assert isinstance(error, AgiProtocolError)
    assert str(error) == "SET VARIABLE: 510 Invalid or unknown command"


async def test_multi_line_520_is_one_protocol_error() -> None:
    usage = (
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b" Usage: SET VARIABLE <variablename> <value>\n"
        b"520 End of proper usage.\n"
    )
    replies = iter([usage, b"200 result=1\n", b"200 result=1\n"])
    commands, errors = await run_until_error(lambda _: next(replies))
    assert len(commands) == 3  # the usage lines were all read: the next answers line up
    [error] = errors
    assert isinstance(error, AgiProtocolError)
    assert "Usage: SET VARIABLE <variablename> <value>" in str(error)


async def test_no_answer_in_time() -> None:
    start = time.monotonic()
    commands, errors = await run_until_error(
        lambda _: b"\x00", command_timeout=0.2, handler_timeout=3.0
    )
    assert time.monotonic() - start < 1.5
    assert commands == ['SET VARIABLE CC_0 "x"']
    assert len(errors) == 3
    assert all(type(err) is AgiError for err in errors)
    assert "no answer within 0.2s" in str(errors[0])


# --- load and shutdown -----------------------------------------------------------------------


async def test_many_concurrent_calls() -> None:
    recorder = Recorder()
    async with serving({"route": recorder}, handler_timeout=10.0) as (server, asterisk):
        calls = await asyncio.gather(
            *(asterisk.call(environment(uniqueid=f"1732550000.{n}")) for n in range(200))
        )
        await wait_idle(server)
    assert len(recorder.requests) == 200
    for n, call in enumerate(calls):
        assert call.commands == [f'SET VARIABLE CC_QUEUE "q-1732550000.{n}"']


async def test_connections_beyond_the_limit_are_refused(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()
    entered: list[str] = []
    both_in = asyncio.Event()

    async def route(request: AgiRequest, session: AgiSession) -> None:
        entered.append(request.uniqueid)
        if len(entered) == 2:
            both_in.set()
        await release.wait()

    async with serving({"route": route}, max_connections=2) as (_, asterisk):
        held = [asyncio.create_task(asterisk.call(environment(uniqueid=f"1.{n}"))) for n in (1, 2)]
        async with asyncio.timeout(2):
            await both_in.wait()
        refused = await asterisk.call(environment(uniqueid="1.3"))
        assert refused.commands == []
        release.set()
        await asyncio.gather(*held)
        assert entered == ["1.1", "1.2"]
        # back under the limit: served again
        release.clear()
        release.set()
        await asterisk.call(environment(uniqueid="1.4"))
    assert entered == ["1.1", "1.2", "1.4"]
    messages = [r.getMessage() for r in caplog.records if "calls" in r.getMessage()]
    assert messages == [
        "FastAGI connection limit of 2 reached: refusing calls",
        "FastAGI accepting calls again",
    ]


async def test_close_with_calls_in_flight_is_prompt() -> None:
    entered = 0
    cancelled = 0
    all_in = asyncio.Event()

    async def route(request: AgiRequest, session: AgiSession) -> None:
        nonlocal entered, cancelled
        entered += 1
        if entered == 20:
            all_in.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise

    server = AgiServer("127.0.0.1", 0, {"route": route}, handler_timeout=60.0)
    await server.start()
    asterisk = FakeAsterisk(server.port)
    calls = [asyncio.create_task(asterisk.call(within=5)) for _ in range(20)]
    # plus a peer stuck in its environment
    async with asterisk.connect() as (reader, writer):
        writer.write(b"agi_network: yes\n")
        async with asyncio.timeout(2):
            await all_in.wait()
        start = time.monotonic()
        async with asyncio.timeout(2):
            await server.close()
        assert time.monotonic() - start < 1.0
        assert server.connections == 0
        assert cancelled == 20
        assert await closed_by_server(reader) == b""
    results = await asyncio.gather(*calls)
    assert all(call.commands == [] and not call.hung_up for call in results)
    with pytest.raises(OSError, match="onnect"):
        await asterisk.call(within=1)
    await server.close()  # twice is fine


# --- several variables -----------------------------------------------------------------------

VARIABLES = {
    "CC_QUEUE": "vip",
    "CC_ROUTE_RULE": "key-account",
    "CC_ROUTE_REASON": 'Anna "AN" Nowak',
}
SENT = [
    'SET VARIABLE CC_QUEUE "vip"',
    'SET VARIABLE CC_ROUTE_RULE "key-account"',
    'SET VARIABLE CC_ROUTE_REASON "Anna \\"AN\\" Nowak"',
]


async def set_all(answer: Any = None, **call: Any) -> tuple[list[str], list[BaseException]]:
    """A handler sets VARIABLES, then one more; returns what Asterisk got and the errors."""
    errors: list[BaseException] = []

    async def route(request: AgiRequest, session: AgiSession) -> None:
        try:
            await session.set_variables(VARIABLES)
        except (AgiError, ValueError) as err:
            errors.append(err)
        try:
            await session.set_variable("CC_AFTER", "x")
        except AgiError as err:
            errors.append(err)

    async with serving({"route": route}) as (server, asterisk):
        options = call if answer is None else {**call, "answer": answer}
        result = await asterisk.call(**options)
        await wait_idle(server)
    return result.commands, errors


async def test_set_variables_sends_each_in_order() -> None:
    commands, errors = await set_all()
    assert commands == [*SENT, 'SET VARIABLE CC_AFTER "x"']
    assert errors == []


async def test_set_variables_never_pipelines_because_res_agi_would_stall() -> None:
    # the fake reads like res_agi: a second line sent before the first is answered would
    # wait in its buffer, and the call would end on the command timeout instead
    start = time.monotonic()
    commands, errors = await set_all(like_res_agi=True)
    assert commands == [*SENT, 'SET VARIABLE CC_AFTER "x"']
    assert errors == []
    assert time.monotonic() - start < FAST["command_timeout"]


async def test_the_res_agi_model_does_stall_a_pipelining_client() -> None:
    # the guard above could fail: two lines in one write get one answer
    answers: list[bytes] = []

    async def route(request: AgiRequest, session: AgiSession) -> None:
        session._writer.write(b'SET VARIABLE A "1"\nSET VARIABLE B "2"\n')
        await session._writer.drain()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.3):
                while True:
                    answers.append(await session._reader.readline())

    async with serving({"route": route}) as (server, asterisk):
        call = await asterisk.call(like_res_agi=True)
        await wait_idle(server)
    assert call.commands == ['SET VARIABLE A "1"']
    assert answers == [b"200 result=1\n"]


async def test_set_variables_with_answers_trickling_byte_by_byte() -> None:
    commands, errors = await set_all(reply_byte_delay=0.002)
    assert commands == [*SENT, 'SET VARIABLE CC_AFTER "x"']
    assert errors == []


async def test_set_variables_peer_answers_the_first_then_hangs_up() -> None:
    replies = iter([b"200 result=1\n", b""])
    commands, errors = await set_all(lambda _: next(replies))
    # the third is never sent, and the session is spent: CC_AFTER is not sent either
    assert commands == SENT[:2]
    assert [type(err) for err in errors] == [AgiHangup, AgiHangup]


async def test_set_variables_hangup_line_after_the_first() -> None:
    replies = iter([b"200 result=1\n", b"HANGUP\n"])
    commands, errors = await set_all(lambda _: next(replies), like_res_agi=True)
    assert commands == SENT[:2]
    assert [type(err) for err in errors] == [AgiHangup, AgiHangup]


async def test_set_variables_511_is_a_hangup() -> None:
    reply = b"511 Command Not Permitted on a dead channel or intercept routine\n"
    commands, errors = await set_all(lambda _: reply)
    assert commands == SENT[:1]
    assert [type(err) for err in errors] == [AgiHangup, AgiHangup]


async def test_set_variables_510_stops_the_rest_but_not_the_session() -> None:
    replies = iter([b"200 result=1\n", b"510 Invalid or unknown command\n", b"200 result=1\n"])
    commands, errors = await set_all(lambda _: next(replies))
    assert commands == [*SENT[:2], 'SET VARIABLE CC_AFTER "x"']
    [error] = errors
    assert str(error) == "SET VARIABLE: 510 Invalid or unknown command"


async def test_set_variables_no_answer_in_time() -> None:
    start = time.monotonic()
    commands, errors = await set_all(lambda _: b"\x00")
    assert time.monotonic() - start < 1.5
    assert commands == SENT[:1]
    assert [type(err) for err in errors] == [AgiError, AgiError]


async def test_set_variables_checks_every_item_before_sending() -> None:
    refused: list[str] = []

    async def route(request: AgiRequest, session: AgiSession) -> None:
        for values in ({"CC_QUEUE": "vip", "SHELL(id)": "x"}, {"CC_QUEUE": "vip", "B": "x" * 5000}):
            try:
                await session.set_variables(values)
            except ValueError as err:
                refused.append(str(err))
        await session.set_variables({})
        await session.set_variable("CC_AFTER", "x")

    async with serving({"route": route}) as (server, asterisk):
        call = await asterisk.call()
        await wait_idle(server)
    assert call.commands == ['SET VARIABLE CC_AFTER "x"']
    assert len(refused) == 2
    assert "not a channel variable name" in refused[0]
    assert "longer than" in refused[1]
