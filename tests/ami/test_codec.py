"""The decoder (bytes in, frames out) and the outgoing field checks; no sockets."""

from __future__ import annotations

import itertools
from unittest.mock import Mock

import pytest

from contact_center.ami.codec import (
    MAX_VALUE_CHARS,
    AmiDecoder,
    check_action,
    check_interface,
    check_queue,
)
from contact_center.errors import AmiBadInput, AmiError

NAMES = ["Zażółć Gęślą Jaźń", "Олена Коваленко", "☕ 𝄞 客户"]


def frame_bytes(name: str) -> bytes:
    return (
        "Event: Newstate\r\nUniqueid: 1.1\r\n"
        f"CallerIDName: {name}\r\nConnectedLineName: {name}\r\n\r\n"
    ).encode()


def feed_in_pieces(data: bytes, *cuts: int) -> list[dict[str, str]]:
    decoder = AmiDecoder()
    frames: list[dict[str, str]] = []
    edges = [0, *cuts, len(data)]
    for start, end in itertools.pairwise(edges):
        frames += decoder.feed(data[start:end])
    return frames


@pytest.mark.parametrize("name", NAMES)
def test_a_character_split_at_any_byte_survives(name: str) -> None:
    data = frame_bytes(name)
    for cut in range(1, len(data)):
        frames = feed_in_pieces(data, cut)
        assert [f["CallerIDName"] for f in frames] == [name], cut
        assert frames[0]["ConnectedLineName"] == name


@pytest.mark.parametrize("name", NAMES)
def test_one_byte_per_read(name: str) -> None:
    data = b"Asterisk Call Manager/6.0.0\r\n" + frame_bytes(name) * 2
    decoder = AmiDecoder()
    frames = [f for i in range(len(data)) for f in decoder.feed(data[i : i + 1])]
    assert [f["CallerIDName"] for f in frames] == [name, name]
    assert decoder.banner == "6.0.0"


def test_stock_panoramisk_loses_a_split_character() -> None:
    """The defect we work around: if this starts failing, panoramisk fixed its decoding."""
    from panoramisk.ami_protocol import AMIProtocol

    got: list[str] = []

    class Factory:
        save_stream = None

        def dispatch(self, message: object) -> None:
            got.append(message["CallerIDName"])  # type: ignore[index]

    protocol = AMIProtocol()
    protocol.connection_made(Mock())
    protocol.factory = Factory()
    protocol.encoding = "utf8"
    data = frame_bytes("Zażółć")
    cut = data.index("ż".encode()) + 1
    protocol.data_received(data[:cut])
    protocol.data_received(data[cut:])
    assert got == ["Zaółć"]


def test_lf_only_line_ends_and_blank_lines_with_spaces() -> None:
    frames = feed_in_pieces(b"Event: A\nUniqueid: 1\n\nEvent: B\n  \r\nEvent: C\r\n\r\n")
    assert [f["Event"] for f in frames] == ["A", "B", "C"]


def test_lines_that_are_not_key_value_are_skipped() -> None:
    decoder = AmiDecoder()
    frames = decoder.feed(
        b"Event: Newstate\r\nthis is no header\r\nUniqueid:1.1\r\n: empty key\r\n"
        b"Bad Key: x\r\nCallerIDName: a: b\r\n\r\n"
    )
    assert frames == [{"Event": "Newstate", "Uniqueid": "1.1", "CallerIDName": "a: b"}]
    assert decoder.skipped_lines == 3


def test_non_utf8_bytes_become_replacement_characters() -> None:
    frames = feed_in_pieces(b"\xff\xfe\x00garbage\r\n\r\nEvent: X\r\nName: caf\xe9\r\n\r\n")
    assert frames[-1] == {"Event": "X", "Name": "caf\ufffd"}


def test_repeated_keys_keep_every_value() -> None:
    frames = feed_in_pieces(b"Response: Success\r\nOutput: one\r\nOutput: two\r\n\r\n")
    assert frames == [{"Response": "Success", "Output": "one\ntwo"}]


def test_a_frame_without_its_blank_line_waits() -> None:
    decoder = AmiDecoder()
    assert decoder.feed(b"Event: A\r\nUniqueid: 1\r\n") == []
    assert decoder.feed(b"\r\n") == [{"Event": "A", "Uniqueid": "1"}]


def test_a_huge_frame_is_dropped_and_the_next_one_is_fine() -> None:
    decoder = AmiDecoder(max_frame=1000)
    frames = decoder.feed(b"Event: Huge\r\n" + b"X-Pad: " + b"y" * 500 + b"\r\n")
    frames += decoder.feed((b"X-More: " + b"z" * 600 + b"\r\n") * 3)
    frames += decoder.feed(b"\r\nEvent: Next\r\n\r\n")
    assert frames == [{"Event": "Next"}]
    assert decoder.dropped_frames == 1


def test_an_endless_line_does_not_grow_memory() -> None:
    decoder = AmiDecoder(max_frame=1000)
    for _ in range(100):
        assert decoder.feed(b"a" * 999) == []
    assert len(decoder._partial) <= 1000
    assert decoder.feed(b"\r\n\r\nEvent: After\r\n\r\n") == [{"Event": "After"}]


def test_banner_only_on_the_first_line() -> None:
    decoder = AmiDecoder()
    frames = decoder.feed(b"Event: A\r\n\r\nAsterisk Call Manager/1.0\r\n\r\n")
    assert decoder.banner is None
    assert frames == [{"Event": "A"}]


def test_check_action_passes_clean_fields() -> None:
    assert check_action("QueuePause", {"Interface": "PJSIP/a", "Reason": "Zażółć ☕"}) == {
        "Action": "QueuePause",
        "Interface": "PJSIP/a",
        "Reason": "Zażółć ☕",
    }


@pytest.mark.parametrize(
    "value",
    ["x\r\nAction: Hangup", "x\nAction: Hangup", "x\rY", "nul\x00", "esc\x1b", "del\x7f"],
)
def test_check_action_refuses_line_breaks_and_controls(value: str) -> None:
    with pytest.raises(AmiBadInput, match="line break or control"):
        check_action("Originate", {"Channel": value})


def test_check_action_refuses_bad_names_and_sizes() -> None:
    with pytest.raises(AmiBadInput):
        check_action("Originate\r\nAction: Hangup", {})
    with pytest.raises(AmiBadInput):
        check_action("Ping", {"Bad Key": "x"})
    with pytest.raises(AmiBadInput):
        check_action("Ping", {"ActionID": "mine"})
    with pytest.raises(AmiBadInput):
        check_action("Ping", {"X": "y" * (MAX_VALUE_CHARS + 1)})
    with pytest.raises(AmiBadInput):
        check_action("Ping", {"X": 5})  # type: ignore[dict-item]


def test_queue_and_interface_shapes() -> None:
    assert check_queue("sales-pl_2") == "sales-pl_2"
    assert check_interface("PJSIP/agent.1-x_y") == "PJSIP/agent.1-x_y"
    for bad in ["", "sales pl", "sales\n", "sales,x", "żółw"]:
        with pytest.raises(AmiBadInput):
            check_queue(bad)
    for bad in ["SIP/agent1", "PJSIP/", "PJSIP/a b", "PJSIP/a\n", "Local/1@x", "PJSIP/a&b"]:
        with pytest.raises(AmiBadInput):
            check_interface(bad)


def test_bad_input_is_a_value_error_and_an_ami_error() -> None:
    assert issubclass(AmiBadInput, ValueError)
    assert issubclass(AmiBadInput, AmiError)


HOSTILE = (
    b"Asterisk Call Manager/11.0.0\r\n"
    b"Event: A\r\nUniqueid: 1\r\nChanVariable: X=1\r\nChanVariable: Y=2\r\n\r\n"
    b"Event: B\nUniqueid: 2\n\n"  # LF only
    b"Event: C\r\n  \r\nEvent: D\r\n\r\n\r\n\r\n"  # a whitespace line, extra blank lines
    b"Event: E\r\nBad Key: x\r\n : empty\r\nno colon\r\n\tTabbed: y\r\nK:v\r\n\r\n"
    b"Event: F\r\nValue: a\rb\r\nCallerIDName: Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\r\n\r\n"
    b"Event: Huge\r\nPad: " + b"p" * 1500 + b"\r\n\r\n"
    b"Event: G\r\nOutput: one\r\nOutput: two\r\nOutput: three\r\n\r\n"
    b"\xff\xfe garbage\r\n\r\nEvent: H\r\nName: caf\xe9\r\n\r\n"
)


def test_the_hostile_sample_decodes_as_documented() -> None:
    decoder = AmiDecoder(max_frame=1000)
    frames = decoder.feed(HOSTILE)
    assert decoder.banner == "11.0.0"
    assert [f.get("Event") for f in frames] == ["A", "B", "C", "D", "E", "F", "G", "H"]
    assert frames[0]["ChanVariable"] == "X=1\nY=2"
    assert frames[4] == {"Event": "E", "Tabbed": "y", "K": "v"}
    assert frames[5]["Value"] == "a\rb"
    assert frames[6]["Output"] == "one\ntwo\nthree"
    assert (decoder.dropped_frames, decoder.skipped_lines) == (1, 4)


def test_the_hostile_sample_decodes_the_same_in_any_reads() -> None:
    whole = AmiDecoder(max_frame=1000)
    expected = whole.feed(HOSTILE)
    for size in (1, 2, 3, 7, 64, 1001):
        decoder = AmiDecoder(max_frame=1000)
        frames = [
            f for at in range(0, len(HOSTILE), size) for f in decoder.feed(HOSTILE[at : at + size])
        ]
        assert frames == expected, size
        assert (decoder.dropped_frames, decoder.skipped_lines) == (1, 4), size
