"""Parsing alone, no network: bare panoramisk (the comparison) and our own layers (for the
profile). Each takes the whole byte stream and feeds it in reads of ``chunk`` bytes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib.metadata import version as _version
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from contact_center.ami.codec import AmiDecoder
from contact_center.ami.events import parse_event


def version() -> str:
    return _version("panoramisk")


@dataclass(frozen=True, slots=True)
class BareParse:
    events: int
    cpu: float


class _Counting:
    """The ``factory`` panoramisk's protocol dispatches events to: it only counts them."""

    def __init__(self) -> None:
        self.events = 0

    def dispatch(self, message: Any) -> None:
        self.events += 1


class _NoTransport:
    def write(self, data: bytes) -> None:  # pragma: no cover - nothing is sent
        raise AssertionError("the bare parse sends nothing")


def panoramisk_parse(data: bytes, chunk: int) -> BareParse:
    """panoramisk 1.4's ``AMIProtocol.data_received`` on every read, as on a socket:
    decode, split frames, ``Message.from_line``, match responses, dispatch events."""
    protocol = AMIProtocol()
    protocol.connection_made(_NoTransport())
    factory = _Counting()
    protocol.factory = factory
    protocol.encoding = "utf-8"
    protocol.version = ""  # past the banner
    reads = [data[at : at + chunk] for at in range(0, len(data), chunk)]
    start = time.process_time()
    for read in reads:
        protocol.data_received(read)
    protocol.data_received(b"")
    return BareParse(factory.events, time.process_time() - start)


@dataclass(frozen=True, slots=True)
class OurParse:
    frames: int
    typed: int
    decode_cpu: float
    cpu: float


def our_parse(data: bytes, chunk: int) -> OurParse:
    """Our decoder alone, then our decoder and ``parse_event`` (typed events), on the same
    reads: the first two layers the bridge runs on every byte."""
    reads = [data[at : at + chunk] for at in range(0, len(data), chunk)]
    decoder = AmiDecoder()
    start = time.process_time()
    frames = 0
    for read in reads:
        frames += len(decoder.feed(read))
    decode_cpu = time.process_time() - start
    decoder = AmiDecoder()
    typed = 0
    start = time.process_time()
    for read in reads:
        for frame in decoder.feed(read):
            if parse_event(frame) is not None:
                typed += 1
    return OurParse(frames, typed, decode_cpu, time.process_time() - start)
