"""Opening hours, holidays and time windows, in a given time zone. Pure code.

Time zones are resolved when a schedule is parsed (zoneinfo reads its database from disk
once), so checking the time on the call path touches no file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contact_center.errors import RuleError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(where: str, name: Any) -> ZoneInfo:
    if not isinstance(name, str):
        raise RuleError(f"{where}: expected a time zone name such as Europe/Warsaw")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise RuleError(f"{where}: unknown time zone {name!r}") from err


def _clock(where: str, text: Any) -> dt.time:
    if not isinstance(text, str):
        raise RuleError(f"{where}: expected a time as HH:MM")
    if text == "24:00":
        return dt.time.max
    try:
        return dt.time.fromisoformat(text)
    except ValueError as err:
        raise RuleError(f"{where}: {text!r} is not a time as HH:MM") from err


def _span(where: str, text: Any) -> tuple[dt.time, dt.time]:
    if not isinstance(text, str) or text.count("-") != 1:
        raise RuleError(f"{where}: expected opening hours as HH:MM-HH:MM")
    start, end = (_clock(where, part.strip()) for part in text.split("-"))
    if not start < end:
        raise RuleError(f"{where}: {text!r} closes before it opens")
    return start, end


def _days(where: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(d in DAYS for d in items):
        raise RuleError(f"{where}: expected days among {', '.join(DAYS)}")
    return tuple(items)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A rule condition: on these days, between these times (in the center's time zone)."""

    days: tuple[str, ...] = DAYS
    start: dt.time = dt.time.min
    end: dt.time = dt.time.max

    @classmethod
    def parse(cls, where: str, data: Any) -> TimeWindow:
        if not isinstance(data, Mapping) or not set(data) <= {"days", "from", "to"}:
            raise RuleError(f"{where}: expected days, from and to")
        return cls(
            _days(f"{where}.days", data.get("days", list(DAYS))),
            _clock(f"{where}.from", data.get("from", "00:00")),
            _clock(f"{where}.to", data.get("to", "24:00")),
        )

    def contains(self, now: dt.datetime, tz: ZoneInfo) -> bool:
        local = now.astimezone(tz)
        return DAYS[local.weekday()] in self.days and self.start <= local.time() < self.end

    def dump(self) -> dict[str, Any]:
        return {
            "days": list(self.days),
            "from": self.start.strftime("%H:%M"),
            "to": "24:00" if self.end == dt.time.max else self.end.strftime("%H:%M"),
        }


@dataclass(frozen=True, slots=True)
class Schedule:
    """A queue's weekly opening hours and holidays; no hours at all means always open."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    hours: Mapping[str, tuple[tuple[dt.time, dt.time], ...]] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def parse(cls, where: str, timezone: str, hours: Any, holidays: Any) -> Schedule:
        tz = zone(f"{where}.timezone", timezone)
        parsed: dict[str, tuple[tuple[dt.time, dt.time], ...]] = {}
        if hours:
            if not isinstance(hours, Mapping) or not set(hours) <= set(DAYS):
                raise RuleError(f"{where}.hours: expected days among {', '.join(DAYS)}")
            for day, spans in hours.items():
                items = [spans] if isinstance(spans, str) else spans
                if not isinstance(items, list):
                    raise RuleError(f"{where}.hours.{day}: expected a list of HH:MM-HH:MM")
                parsed[day] = tuple(_span(f"{where}.hours.{day}", span) for span in items)
        dates: set[dt.date] = set()
        for item in holidays or ():
            try:
                dates.add(dt.date.fromisoformat(str(item)))
            except ValueError as err:
                raise RuleError(f"{where}.holidays: {item!r} is not a date (YYYY-MM-DD)") from err
        return cls(tz, parsed, frozenset(dates))

    @property
    def always_open(self) -> bool:
        return not self.hours and not self.holidays

    def is_open(self, now: dt.datetime) -> bool:
        if self.always_open:
            return True
        local = now.astimezone(self.tz)
        if local.date() in self.holidays:
            return False
        if not self.hours:
            return True
        spans = self.hours.get(DAYS[local.weekday()], ())
        return any(start <= local.time() < end for start, end in spans)
