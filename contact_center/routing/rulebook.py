"""The rulebook as a document: read from and written to YAML (and the database's JSON).

Reading validates everything before anything is used, so a bad file changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contact_center.errors import RuleError
from contact_center.routing.rules import (
    AFTER_HOURS_PATHS,
    Actions,
    Conditions,
    QueuePolicy,
    Rule,
    Rulebook,
    parse_rules,
)
from contact_center.routing.schedule import Schedule, zone

DEFAULT_RULES = Path(__file__).resolve().parent / "default_rules.yaml"
MAX_DOCUMENT = 1_000_000


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """A queue's routing settings as stored: opening hours, holidays, after-hours path."""

    timezone: str | None = None
    hours: Mapping[str, Any] = field(default_factory=dict)
    holidays: tuple[str, ...] = ()
    after_hours: str = "message"

    def policy(self, where: str, center_timezone: str) -> QueuePolicy:
        if self.after_hours not in AFTER_HOURS_PATHS:
            raise RuleError(f"{where}.after_hours: one of {', '.join(AFTER_HOURS_PATHS)}")
        schedule = Schedule.parse(
            where, self.timezone or center_timezone, dict(self.hours), list(self.holidays)
        )
        return QueuePolicy(schedule, self.after_hours)


@dataclass(frozen=True, slots=True)
class RulebookDocument:
    """What a rulebook file holds: the rules in order and the queues' settings."""

    rules: tuple[Rule, ...]
    queues: Mapping[str, QueueSettings]

    def build(self, default_queue: str, timezone: str) -> Rulebook:
        """The rulebook to decide with; `timezone` is the center's (CC_TIMEZONE)."""
        return Rulebook(
            rules=self.rules,
            queues={
                name: settings.policy(f"queues.{name}", timezone)
                for name, settings in self.queues.items()
            },
            default_queue=default_queue,
            tz=zone("CC_TIMEZONE", timezone),
        )


def _queue_settings(name: str, data: Any) -> QueueSettings:
    where = f"queues.{name}"
    if data is None:
        data = {}
    if not isinstance(data, Mapping) or not set(data) <= {
        "timezone",
        "hours",
        "holidays",
        "after_hours",
    }:
        raise RuleError(f"{where}: expected timezone, hours, holidays and after_hours")
    holidays = data.get("holidays") or []
    if not isinstance(holidays, list):
        raise RuleError(f"{where}.holidays: expected a list of dates")
    settings = QueueSettings(
        timezone=data.get("timezone"),
        hours=dict(data.get("hours") or {}),
        holidays=tuple(str(day) for day in holidays),
        after_hours=data.get("after_hours", "message"),
    )
    settings.policy(where, "UTC")  # validate now
    return settings


def parse_document(data: Any) -> RulebookDocument:
    if not isinstance(data, Mapping) or not set(data) <= {"queues", "rules"}:
        raise RuleError("the rulebook has queues and rules at its top level")
    queues = data.get("queues") or {}
    if not isinstance(queues, Mapping):
        raise RuleError("queues: expected a mapping of queue names")
    return RulebookDocument(
        rules=parse_rules(data.get("rules") or []),
        queues={str(name): _queue_settings(str(name), value) for name, value in queues.items()},
    )


def load_yaml(text: str) -> RulebookDocument:
    if len(text) > MAX_DOCUMENT:
        raise RuleError("the rulebook file is larger than 1 MB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RuleError(f"not valid YAML: {err}") from err
    return parse_document(data)


def dump_conditions(when: Conditions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in Conditions.__slots__:
        value = getattr(when, key)
        if value in ((), None):
            continue
        out[key] = (
            value.dump() if key == "time" else list(value) if isinstance(value, tuple) else value
        )
    return out


def dump_actions(then: Actions) -> dict[str, Any]:
    defaults = Actions(queue=then.queue)
    out: dict[str, Any] = {"queue": then.queue}
    for key in Actions.__slots__:
        value = getattr(then, key)
        if key == "queue" or value == getattr(defaults, key):
            continue
        if key == "overflow" and value is not None:
            value = {
                k: v
                for k, v in {
                    "queue": value.queue,
                    "waiting": value.waiting,
                    "longest_wait": value.longest_wait,
                }.items()
                if v is not None
            }
        out[key] = value
    return out


def dump_rule(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rule.name}
    if rule.description:
        out["description"] = rule.description
    if not rule.enabled:
        out["enabled"] = False
    out["when"] = dump_conditions(rule.when)
    out["then"] = dump_actions(rule.then)
    return out


def dump_queue(settings: QueueSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if settings.timezone:
        out["timezone"] = settings.timezone
    if settings.hours:
        out["hours"] = dict(settings.hours)
    if settings.holidays:
        out["holidays"] = list(settings.holidays)
    out["after_hours"] = settings.after_hours
    return out


def dump_yaml(document: RulebookDocument) -> str:
    data = {
        "queues": {name: dump_queue(q) for name, q in sorted(document.queues.items())},
        "rules": [dump_rule(rule) for rule in document.rules],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
