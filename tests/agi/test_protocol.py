"""Pure tests: recorded FastAGI lines in, parsed objects out; commands out as bytes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from contact_center.agi import protocol
from contact_center.agi.protocol import AgiRequest, AgiResponse, Hangup
from contact_center.errors import AgiHangup, AgiProtocolError

from .fake_asterisk import CALLER_NAME, encode_environment, environment


def lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def parse(**kwargs: Any) -> AgiRequest:
    return protocol.parse_environment(lines(encode_environment(environment(**kwargs))))


# --- environment -----------------------------------------------------------------------------


def test_environment_of_a_real_call() -> None:
    request = parse(args=("vip", "two words"))
    assert request.script == "route"
    assert request.query == {}
    assert request.channel == "PJSIP/trunk-00000001"
    assert request.uniqueid == "1732550000.12"
    assert request.caller_num == "+48601234567"
    assert request.caller_name == CALLER_NAME
    assert request.dnid == "221234567"
    assert request.extension == "221234567"
    assert request.context == "from-trunk"
    assert request.args == ("vip", "two words")
    assert request.env["agi_accountcode"] == ""
    assert request.env["agi_enhanced"] == "0.0"


def test_unknown_caller_is_empty() -> None:
    request = parse(caller_num="unknown", caller_name="unknown", agi_dnid="unknown")
    assert (request.caller_num, request.caller_name, request.dnid) == ("", "", "")
    assert request.env["agi_callerid"] == "unknown"


def test_value_keeps_colons_and_inner_spaces() -> None:
    request = parse(caller_name=" Dr. Who: the  Doctor ")
    assert request.caller_name == " Dr. Who: the  Doctor "


def test_crlf_line_endings() -> None:
    data = encode_environment(environment()).replace(b"\n", b"\r\n")
    request = protocol.parse_environment(lines(data))
    assert request.caller_name == CALLER_NAME
    assert request.uniqueid == "1732550000.12"


def test_args_stop_at_the_first_gap() -> None:
    request = parse(agi_arg_1="a", agi_arg_2="", agi_arg_4="d")
    assert request.args == ("a", "")


def test_query_string_is_split_from_the_script() -> None:
    request = parse(
        agi_network_script="route?queue=vip&lang=pl&lang=en&empty=",
        agi_request="agi://127.0.0.1:4573/route?queue=vip&lang=pl&lang=en&empty=",
    )
    assert request.script == "route"
    assert request.query == {"queue": "vip", "lang": "en", "empty": ""}


def test_script_from_agi_request_when_network_script_is_missing() -> None:
    env = environment()
    del env["agi_network_script"]
    env["agi_request"] = "agi://127.0.0.1:4573/ivr/main?x=%C5%BC"
    request = protocol.parse_environment(lines(encode_environment(env)))
    assert request.script == "ivr/main"
    assert request.query == {"x": "ż"}


def test_request_is_frozen() -> None:
    request = parse()
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.env = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        request.env["agi_callerid"] = "+48000"  # type: ignore[index]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    request = protocol.parse_environment(
        [b"agi_uniqueid: 1.1\n", b"agi_calleridname: \xff\xfeAB\xc5\n", b"\n"]
    )
    assert request.caller_name == "\ufffd\ufffdAB\ufffd"


def test_incremental_parser_waits_for_the_blank_line() -> None:
    parser = protocol.EnvironmentParser()
    assert parser.feed_line(b"agi_network: yes\n") is None
    assert parser.feed_line(b"agi_calleridname: \xc5\xbc\n") is None
    request = parser.feed_line(b"\n")
    assert request is not None
    assert request.caller_name == "ż"
    with pytest.raises(AgiProtocolError):
        parser.feed_line(b"agi_x: y\n")


@pytest.mark.parametrize(
    "line",
    [
        b"GET / HTTP/1.1\r\n",
        b"\xff\xfe\x00\x01\n",
        b"agi_channel PJSIP/x\n",
        b"AGI_CHANNEL: x\n",
        b": value\n",
        b"agi_: x\n",
    ],
)
def test_garbage_environment_line_is_refused(line: bytes) -> None:
    with pytest.raises(AgiProtocolError):
        protocol.parse_environment([b"agi_network: yes\n", line, b"\n"])


def test_repeated_key_is_refused() -> None:
    with pytest.raises(AgiProtocolError, match="repeats agi_callerid"):
        protocol.parse_environment([b"agi_callerid: 1\n", b"agi_callerid: 2\n", b"\n"])


def test_too_many_lines_are_refused() -> None:
    many = [f"agi_arg_{n}: x\n".encode() for n in range(1, 12)]
    assert protocol.parse_environment([*many[:10], b"\n"], max_lines=10).args == ("x",) * 10
    with pytest.raises(AgiProtocolError, match="longer than 10 lines"):
        protocol.parse_environment([*many, b"\n"], max_lines=10)


def test_environment_without_its_blank_line() -> None:
    with pytest.raises(AgiProtocolError, match="blank line"):
        protocol.parse_environment([b"agi_network: yes\n"])


# --- responses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"200 result=1\n", AgiResponse(200, "1", "")),
        (b"200 result=0\n", AgiResponse(200, "0", "")),
        (b"200 result=-1\n", AgiResponse(200, "-1", "")),
        (b"200 result=0 (timeout)\n", AgiResponse(200, "0", "timeout")),
        (b"200 result=1 (vip)\r\n", AgiResponse(200, "1", "vip")),
        (b"200 result=1 (a (b) c)\n", AgiResponse(200, "1", "a (b) c")),
        (b"200 result=1 (\xc5\xbc\xc3\xb3\xc5\x82w)\n", AgiResponse(200, "1", "żółw")),
        (b"200 result=0 endpos=12345\n", AgiResponse(200, "0", "endpos=12345")),
        (
            b"510 Invalid or unknown command\n",
            AgiResponse(510, "", "Invalid or unknown command"),
        ),
        (
            b"511 Command Not Permitted on a dead channel or intercept routine\n",
            AgiResponse(511, "", "Command Not Permitted on a dead channel or intercept routine"),
        ),
    ],
)
def test_single_line_responses(line: bytes, expected: AgiResponse) -> None:
    assert protocol.parse_response(line) == expected
    assert protocol.ResponseParser().feed_line(line) == expected


@pytest.mark.parametrize(
    "line", [b"\n", b"ok\n", b"200\n", b"200 ok\n", b"20 result=1\n", b"200-result=1\n"]
)
def test_garbage_response_is_refused(line: bytes) -> None:
    with pytest.raises(AgiProtocolError):
        protocol.ResponseParser().feed_line(line)


def test_multi_line_520_is_one_response() -> None:
    parser = protocol.ResponseParser()
    recorded = [
        b"520-Invalid command syntax.  Proper usage follows:\n",
        b" Usage: SET VARIABLE <variablename> <value>\n",
        b"  Sets a variable to the current channel.\n",
    ]
    assert [parser.feed_line(line) for line in recorded] == [None, None, None]
    response = parser.feed_line(b"520 End of proper usage.\n")
    assert isinstance(response, AgiResponse)
    assert response.code == 520
    assert response.data.splitlines() == [
        "Invalid command syntax.  Proper usage follows:",
        " Usage: SET VARIABLE <variablename> <value>",
        "  Sets a variable to the current channel.",
        "End of proper usage.",
    ]
    # the parser is ready for the next answer
    assert parser.feed_line(b"200 result=1\n") == AgiResponse(200, "1", "")


def test_endless_520_is_refused() -> None:
    parser = protocol.ResponseParser(max_usage_lines=3)
    parser.feed_line(b"520-Invalid command syntax.\n")
    parser.feed_line(b"a\n")
    parser.feed_line(b"b\n")
    with pytest.raises(AgiProtocolError, match="usage text"):
        parser.feed_line(b"c\n")


def test_hangup_line() -> None:
    assert protocol.ResponseParser().feed_line(b"HANGUP\n") == Hangup()


def test_check_response() -> None:
    ok = AgiResponse(200, "1", "")
    assert protocol.check_response(ok, "SET VARIABLE") is ok
    with pytest.raises(AgiHangup, match="SET VARIABLE: Command Not Permitted"):
        protocol.check_response(AgiResponse(511, "", "Command Not Permitted"), "SET VARIABLE")
    with pytest.raises(AgiProtocolError, match="VERBOSE: 510 Invalid"):
        protocol.check_response(AgiResponse(510, "", "Invalid or unknown command"), "VERBOSE")
    with pytest.raises(AgiProtocolError, match="520 Invalid command syntax"):
        protocol.check_response(AgiResponse(520, "", "Invalid command syntax."), "X")


# --- commands --------------------------------------------------------------------------------


def test_set_variable() -> None:
    assert protocol.set_variable("CC_QUEUE", "vip") == b'SET VARIABLE CC_QUEUE "vip"\n'
    assert protocol.set_variable("__CC_X1", "") == b'SET VARIABLE __CC_X1 ""\n'
    assert protocol.set_variable("CC_NAME", CALLER_NAME) == (
        f'SET VARIABLE CC_NAME "{CALLER_NAME}"\n'.encode()
    )


def test_injection_attempt_stays_one_line() -> None:
    data = protocol.set_variable("CC_NAME", '"\nEXEC System rm -rf /\n')
    assert data == b'SET VARIABLE CC_NAME "\\" EXEC System rm -rf / "\n'
    assert data.count(b"\n") == 1
    assert data.endswith(b"\n")


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("a\r\nb", '"a  b"'),
        ("a\x00b", '"a b"'),
        ("tab\there", '"tab here"'),
        ("del\x7f", '"del "'),
        ("back\\slash", '"back\\\\slash"'),
        ('\\"', '"\\\\\\""'),
        ("${SHELL(id)}", '"${SHELL(id)}"'),
        ("a\u2028b", '"a\u2028b"'),
    ],
)
def test_quote(value: str, quoted: str) -> None:
    assert protocol.quote(value) == quoted


def unquote(argument: str) -> str:
    """Asterisk's parse_args for one argument: a backslash takes the next char literally."""
    assert argument.startswith('"')
    assert argument.endswith('"')
    out, escaped = [], False
    for char in argument[1:-1]:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            assert char != '"', "an unescaped quote ends the argument early"
            out.append(char)
    assert not escaped
    return "".join(out)


@pytest.mark.parametrize("value", ['"', "\\", '\\"', 'a"b\\c"', '" ; EXEC Dial', '\\\\"\\'])
def test_quote_round_trips_through_asterisk_parsing(value: str) -> None:
    assert unquote(protocol.quote(value)) == value


def test_value_length_is_bounded() -> None:
    assert protocol.set_variable("CC_X", "x" * protocol.MAX_VALUE_BYTES)
    with pytest.raises(ValueError, match="longer than"):
        protocol.set_variable("CC_X", "x" * (protocol.MAX_VALUE_BYTES + 1))
    # bytes, not characters: "ż" is two bytes
    with pytest.raises(ValueError, match="longer than"):
        protocol.set_variable("CC_X", "ż" * (protocol.MAX_VALUE_BYTES // 2 + 1))


def test_command_length_is_bounded() -> None:
    # a value of many quotes doubles when escaped: the whole line is checked too
    with pytest.raises(ValueError, match="AGI command longer"):
        protocol.set_variable("CC_X", '"' * protocol.MAX_VALUE_BYTES)


@pytest.mark.parametrize(
    "name",
    ["", "1ABC", "CC-QUEUE", "CC QUEUE", "SHELL(id)", "A\nEXEC", "ŻÓŁW", "X" * 81, "CC_X;"],
)
def test_bad_variable_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a channel variable name"):
        protocol.set_variable(name, "x")
    with pytest.raises(ValueError, match="not a channel variable name"):
        protocol.get_variable(name)


def test_get_variable_and_full_variable() -> None:
    assert protocol.get_variable("CC_QUEUE") == b"GET VARIABLE CC_QUEUE\n"
    assert protocol.get_full_variable("${CALLERID(num)}") == (
        b'GET FULL VARIABLE "${CALLERID(num)}"\n'
    )
    assert protocol.get_full_variable('x"\nEXEC') == b'GET FULL VARIABLE "x\\" EXEC"\n'


def test_verbose() -> None:
    assert protocol.verbose("hello", 2) == b'VERBOSE "hello" 2\n'
    assert protocol.verbose('call from Zaż\n"ółć"') == (
        'VERBOSE "call from Zaż \\"ółć\\"" 1\n'.encode()
    )
    for level in (0, 5, -1):
        with pytest.raises(ValueError, match="level"):
            protocol.verbose("x", level)


def test_raw_command_refuses_control_characters() -> None:
    with pytest.raises(ValueError, match="control"):
        protocol.command("NOOP\nEXEC System id")


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"NOOP",
        b"\n",
        b"NOOP\nEXEC System id\n",
        b"NOOP\r\n",
        b"NOOP\x00x\n",
        b"X" * 2047 + b"\n",
    ],
)
def test_check_command_refuses_anything_but_one_line(line: bytes) -> None:
    with pytest.raises(ValueError, match="AGI command"):
        protocol.check_command(line)


def test_check_command_passes_one_line() -> None:
    assert protocol.check_command(b"NOOP\n") == b"NOOP\n"
    assert protocol.check_command(b"X" * 2046 + b"\n")
