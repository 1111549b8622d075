"""The rule and queue forms: what the user typed, kept as typed, and the plain data the
real parsers validate. Pure code: no request, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contact_center.routing.rulebook import QueueSettings
from contact_center.routing.rules import Rule
from contact_center.routing.schedule import DAYS
from contact_center.web.routing.describe import spans_text

FLAGS = ("open_case", "overdue", "account_manager")
CHOICES = ("caller", "tier", "language")


class FormData:
    """The submitted form (a MultiDict): single values and lists of checked boxes."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def text(self, key: str) -> str:
        value = self._data.get(key, "")
        return value.strip() if isinstance(value, str) else ""

    def texts(self, key: str) -> list[str]:
        return [v for v in self._data.getall(key, []) if isinstance(v, str)]


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _number(text: str) -> int | str:
    """A whole number when it is one; else the text itself, for the parser to refuse."""
    try:
        return int(text)
    except ValueError:
        return text


def _tri(value: bool | None) -> str:
    return "any" if value is None else "yes" if value else "no"


@dataclass(slots=True)
class RuleForm:
    """The rule form's fields, as strings and lists of strings."""

    name: str = ""
    description: str = ""
    enabled: bool = True
    choices: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in CHOICES})
    flags: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FLAGS, "any"))
    tags_any: str = ""
    dialed: str = ""
    days: list[str] = field(default_factory=list)
    time_from: str = ""
    time_to: str = ""
    queue: str = ""
    priority: str = "0"
    preferred_agent: str = ""
    preferred_seconds: str = ""
    last_agent_days: str = ""
    language: str = ""
    overflow_queue: str = ""
    overflow_waiting: str = ""
    overflow_longest_wait: str = ""
    reason: str = ""

    @classmethod
    def from_rule(cls, rule: Rule) -> RuleForm:
        when, then = rule.when, rule.then
        window = when.time.dump() if when.time is not None else None
        overflow = then.overflow
        return cls(
            name=rule.name,
            description=rule.description,
            enabled=rule.enabled,
            choices={k: list(getattr(when, k)) for k in CHOICES},
            flags={k: _tri(getattr(when, k)) for k in FLAGS},
            tags_any=", ".join(when.tags_any),
            dialed=", ".join(when.dialed),
            days=list(window["days"]) if window else [],
            time_from=window["from"] if window else "",
            time_to=window["to"] if window else "",
            queue=then.queue,
            priority=str(then.priority),
            preferred_agent=then.preferred_agent or "",
            preferred_seconds=str(then.preferred_seconds) if then.preferred_agent else "",
            last_agent_days=str(then.last_agent_days)
            if then.preferred_agent == "last_agent"
            else "",
            language=then.language or "",
            overflow_queue=overflow.queue if overflow else "",
            overflow_waiting=str(overflow.waiting or "") if overflow else "",
            overflow_longest_wait=str(overflow.longest_wait or "") if overflow else "",
            reason=then.reason,
        )

    @classmethod
    def from_post(cls, data: Any) -> RuleForm:
        form = FormData(data)
        return cls(
            name=form.text("name"),
            description=form.text("description"),
            enabled=form.text("enabled") == "on",
            choices={k: form.texts(k) for k in CHOICES},
            flags={k: form.text(k) or "any" for k in FLAGS},
            tags_any=form.text("tags_any"),
            dialed=form.text("dialed"),
            days=form.texts("days"),
            time_from=form.text("time_from"),
            time_to=form.text("time_to"),
            queue=form.text("queue"),
            priority=form.text("priority"),
            preferred_agent=form.text("preferred_agent"),
            preferred_seconds=form.text("preferred_seconds"),
            last_agent_days=form.text("last_agent_days"),
            language=form.text("then_language"),
            overflow_queue=form.text("overflow_queue"),
            overflow_waiting=form.text("overflow_waiting"),
            overflow_longest_wait=form.text("overflow_longest_wait"),
            reason=form.text("reason"),
        )

    def to_data(self) -> dict[str, Any]:
        """The plain rule, as in a rulebook file, for `parse_rule` to validate."""
        when: dict[str, Any] = {k: v for k, v in self.choices.items() if v}
        for key in FLAGS:
            if self.flags[key] in ("yes", "no"):
                when[key] = self.flags[key] == "yes"
            elif self.flags[key] != "any":
                when[key] = self.flags[key]  # refused by the parser, with its message
        if self.tags_any:
            when["tags_any"] = _split(self.tags_any)
        if self.dialed:
            when["dialed"] = _split(self.dialed)
        if self.days or self.time_from or self.time_to:
            window: dict[str, Any] = {}
            if self.days:
                window["days"] = self.days
            if self.time_from:
                window["from"] = self.time_from
            if self.time_to:
                window["to"] = self.time_to
            when["time"] = window
        then: dict[str, Any] = {"queue": self.queue}
        if self.priority:
            then["priority"] = _number(self.priority)
        if self.preferred_agent:
            then["preferred_agent"] = self.preferred_agent
        if self.preferred_seconds:
            then["preferred_seconds"] = _number(self.preferred_seconds)
        if self.last_agent_days:
            then["last_agent_days"] = _number(self.last_agent_days)
        if self.language:
            then["language"] = self.language
        if self.overflow_queue or self.overflow_waiting or self.overflow_longest_wait:
            overflow: dict[str, Any] = {"queue": self.overflow_queue}
            if self.overflow_waiting:
                overflow["waiting"] = _number(self.overflow_waiting)
            if self.overflow_longest_wait:
                overflow["longest_wait"] = _number(self.overflow_longest_wait)
            then["overflow"] = overflow
        if self.reason:
            then["reason"] = self.reason
        return {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "when": when,
            "then": then,
        }


@dataclass(slots=True)
class QueueForm:
    """One queue's opening hours as typed: a text per weekday, holidays one per line."""

    name: str
    timezone: str = ""
    always_open: bool = True
    hours: dict[str, str] = field(default_factory=lambda: dict.fromkeys(DAYS, ""))
    holidays: str = ""
    after_hours: str = "message"

    @classmethod
    def from_settings(cls, name: str, settings: QueueSettings) -> QueueForm:
        return cls(
            name=name,
            timezone=settings.timezone or "",
            always_open=not settings.hours,
            hours={day: spans_text(settings.hours.get(day, "")) for day in DAYS},
            holidays="\n".join(settings.holidays),
            after_hours=settings.after_hours,
        )

    @classmethod
    def from_post(cls, data: Any) -> QueueForm:
        form = FormData(data)
        return cls(
            name=form.text("queue"),
            timezone=form.text("timezone"),
            always_open=form.text("always_open") == "on",
            hours={day: form.text(f"hours_{day}") for day in DAYS},
            holidays=form.text("holidays"),
            after_hours=form.text("after_hours"),
        )

    def problem(self) -> str | None:
        """What the parsers cannot say: hours left empty on every day."""
        if not self.always_open and not any(self.hours.values()):
            return (
                f"queues.{self.name}.hours: give the hours of at least one day, "
                "or tick “always open”"
            )
        return None

    def to_settings(self) -> QueueSettings:
        hours: dict[str, Any] = {}
        if not self.always_open:
            for day in DAYS:
                spans = _split(self.hours[day])
                if spans:
                    hours[day] = spans[0] if len(spans) == 1 else spans
        return QueueSettings(
            timezone=self.timezone or None,
            hours=hours,
            holidays=tuple(line.strip() for line in self.holidays.splitlines() if line.strip()),
            after_hours=self.after_hours,
        )
