"""Asterisk's own records of the calls, to hold ours against: the queue_log and the CDRs that
cdr_csv writes (asterisk-config/cdr.conf: UTC times, with uniqueid and userfield)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

QUEUE_OUTCOMES = {
    "CONNECT": "answered",
    "ABANDON": "abandoned",
    "EXITWITHTIMEOUT": "timeout",
    "EXITEMPTY": "left_empty",
}
"""Our outcome for the queue_log event that ends a caller's stay in the queue."""


@dataclasses.dataclass(frozen=True, slots=True)
class QueueLogEntry:
    """``epoch|callid|queue|agent|event|data1|data2|...``; callid is the caller's uniqueid."""

    at: int
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class QueueStay:
    """One caller's first queue, as the queue_log tells it."""

    queue: str
    outcome: str | None
    agent: str | None
    wait: int | None
    """Seconds (Asterisk counts whole seconds)."""
    rang_unanswered: tuple[str, ...]
    transfers: int


def parse_queue_log(text: str) -> list[QueueLogEntry]:
    entries = []
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) < 5 or not parts[0].isdigit():
            continue
        entries.append(
            QueueLogEntry(int(parts[0]), parts[1], parts[2], parts[3], parts[4], tuple(parts[5:]))
        )
    return entries


def queue_stay(entries: list[QueueLogEntry], callid: str) -> QueueStay | None:
    """What the queue_log says about the caller ``callid`` in the first queue it entered."""
    mine = [entry for entry in entries if entry.callid == callid]
    enter = next((entry for entry in mine if entry.event == "ENTERQUEUE"), None)
    if enter is None:
        return None
    outcome = agent = wait = None
    for entry in mine:
        if entry.queue == enter.queue and entry.event in QUEUE_OUTCOMES and outcome is None:
            outcome = QUEUE_OUTCOMES[entry.event]
            if entry.event == "CONNECT":
                agent, wait = entry.agent, int(entry.data[0])
            else:  # ABANDON / EXITWITHTIMEOUT / EXITEMPTY: position, original position, wait
                wait = int(entry.data[2])
    return QueueStay(
        queue=enter.queue,
        outcome=outcome,
        agent=agent,
        wait=wait,
        rang_unanswered=tuple(e.agent for e in mine if e.event == "RINGNOANSWER"),
        transfers=sum(e.event in {"BLINDTRANSFER", "ATTENDEDTRANSFER"} for e in mine),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Cdr:
    src: str
    dst: str
    dcontext: str
    channel: str
    dstchannel: str
    lastapp: str
    start: dt.datetime
    answer: dt.datetime | None
    end: dt.datetime
    duration: int
    billsec: int
    disposition: str
    uniqueid: str


def _utc(text: str) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def parse_cdr_csv(text: str) -> list[Cdr]:
    """cdr_csv's Master.csv: accountcode, src, dst, dcontext, clid, channel, dstchannel,
    lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags,
    uniqueid, userfield."""
    records = []
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 17:
            continue
        start, answer, end = _utc(row[9]), _utc(row[10]), _utc(row[11])
        if start is None or end is None:
            raise ValueError(f"a CDR without start or end: {row}")
        records.append(
            Cdr(
                src=row[1],
                dst=row[2],
                dcontext=row[3],
                channel=row[5],
                dstchannel=row[6],
                lastapp=row[7],
                start=start,
                answer=answer,
                end=end,
                duration=int(row[12]),
                billsec=int(row[13]),
                disposition=row[14],
                uniqueid=row[16],
            )
        )
    return records
