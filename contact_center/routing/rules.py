"""Routing rules as data: conditions on who is calling, actions saying where the call goes.

Pure code: a `Rulebook` is parsed and validated from plain data (the database's JSON or a
YAML file), and `decide` turns a caller's records, the dialed number, the time and the live
queue load into one `RouteDecision` that explains itself. No I/O here.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from contact_center.bus.base import QueueLoad
from contact_center.errors import RuleError
from contact_center.routing.schedule import Schedule, TimeWindow, zone

CALLER_KINDS = ("known", "unknown", "withheld")
TIERS = ("standard", "vip")
LANGUAGES = ("pl", "uk", "en")
PREFERRED_AGENTS = ("account_manager", "last_agent")
AFTER_HOURS_PATHS = ("message", "voicemail", "callback")
REASON_FIELDS = ("name", "company", "tier", "language", "manager", "balance", "last_agent")
MAX_PRIORITY = 100


@dataclass(frozen=True, slots=True)
class CallerRecord:
    """What routing knows about one customer a number belongs to."""

    customer_id: int
    name: str
    tier: str
    language: str
    overdue_balance: Decimal
    company: str | None = None
    tags: tuple[str, ...] = ()
    open_cases: int = 0
    account_manager: str | None = None
    account_manager_interface: str | None = None
    last_agent: str | None = None
    last_agent_interface: str | None = None
    last_contact_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Conditions:
    caller: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    open_case: bool | None = None
    overdue: bool | None = None
    account_manager: bool | None = None
    dialed: tuple[str, ...] = ()
    time: TimeWindow | None = None


@dataclass(frozen=True, slots=True)
class Overflow:
    queue: str
    waiting: int | None = None
    longest_wait: int | None = None


@dataclass(frozen=True, slots=True)
class Actions:
    queue: str
    priority: int = 0
    preferred_agent: str | None = None
    preferred_seconds: int = 15
    last_agent_days: int = 30
    language: str | None = None
    overflow: Overflow | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: Conditions
    then: Actions
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """A queue's opening hours and what happens to a call when it is closed."""

    schedule: Schedule = field(default_factory=Schedule)
    after_hours: str = "message"


@dataclass(frozen=True, slots=True)
class Rulebook:
    rules: tuple[Rule, ...] = ()
    queues: Mapping[str, QueuePolicy] = field(default_factory=dict)
    default_queue: str = "main"
    tz: ZoneInfo = field(default_factory=lambda: zone("timezone", "Europe/Warsaw"))


@dataclass(frozen=True, slots=True)
class RouteDecision:
    queue: str
    priority: int
    rule: str
    reason: str
    customer_id: int | None = None
    candidates: tuple[int, ...] = ()
    preferred_agent: str | None = None
    preferred_seconds: int = 0
    language: str | None = None
    after_hours: str | None = None


@dataclass(frozen=True, slots=True)
class CallFacts:
    """Everything a decision depends on, gathered by the service before deciding."""

    caller_e164: str | None
    records: Sequence[CallerRecord]
    dialed: str
    now: dt.datetime
    load: Mapping[str, QueueLoad] = field(default_factory=dict)


# --- parsing -----------------------------------------------------------------------------------


def _strings(where: str, value: Any, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise RuleError(f"{where}: expected a text or a list of texts")
    if allowed is not None:
        for item in items:
            if item not in allowed:
                raise RuleError(f"{where}: {item!r} is not one of {', '.join(allowed)}")
    return tuple(items)


def _flag(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleError(f"{where}: expected true or false")
    return value


def _int(where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(f"{where}: expected a whole number from {low} to {high}")
    return value


def _queue_name(where: str, value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 64
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    ):
        raise RuleError(f"{where}: a queue name is letters, digits, '-' or '_'")
    return value


def _only(where: str, data: Mapping[str, Any], keys: Sequence[str]) -> None:
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise RuleError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(keys)})")


def _reason(where: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise RuleError(f"{where}: expected a text of at most 200 characters")
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(value) if name]
    except ValueError as err:
        raise RuleError(f"{where}: {err}") from err
    for name in fields:
        if name not in REASON_FIELDS:
            raise RuleError(f"{where}: {{{name}}} is not one of {', '.join(REASON_FIELDS)}")
    return value


def parse_conditions(where: str, data: Any) -> Conditions:
    if data is None:
        return Conditions()
    if not isinstance(data, Mapping):
        raise RuleError(f"{where}: expected a mapping of conditions")
    _only(where, data, Conditions.__slots__)
    values: dict[str, Any] = {}
    for key, value in data.items():
        at = f"{where}.{key}"
        match key:
            case "caller":
                values[key] = _strings(at, value, CALLER_KINDS)
            case "tier":
                values[key] = _strings(at, value, TIERS)
            case "language":
                values[key] = _strings(at, value, LANGUAGES)
            case "tags_any" | "dialed":
                values[key] = _strings(at, value)
            case "open_case" | "overdue" | "account_manager":
                values[key] = _flag(at, value)
            case "time":
                values[key] = TimeWindow.parse(at, value)
    return Conditions(**values)


def parse_actions(where: str, data: Any) -> Actions:
    if not isinstance(data, Mapping) or "queue" not in data:
        raise RuleError(f"{where}: expected a mapping with at least a queue")
    _only(where, data, Actions.__slots__)
    values: dict[str, Any] = {"queue": _queue_name(f"{where}.queue", data["queue"])}
    for key, value in data.items():
        at = f"{where}.{key}"
        match key:
            case "priority":
                values[key] = _int(at, value, 0, MAX_PRIORITY)
            case "preferred_agent":
                values[key] = _strings(at, value, PREFERRED_AGENTS)[0]
            case "preferred_seconds":
                values[key] = _int(at, value, 5, 120)
            case "last_agent_days":
                values[key] = _int(at, value, 1, 365)
            case "language":
                values[key] = _strings(at, value, (*LANGUAGES, "customer"))[0]
            case "reason":
                values[key] = _reason(at, value)
            case "overflow":
                if not isinstance(value, Mapping):
                    raise RuleError(f"{at}: expected a mapping")
                _only(at, value, ("queue", "waiting", "longest_wait"))
                if "waiting" not in value and "longest_wait" not in value:
                    raise RuleError(f"{at}: give waiting, longest_wait or both")
                values[key] = Overflow(
                    _queue_name(f"{at}.queue", value.get("queue")),
                    _int(f"{at}.waiting", value["waiting"], 1, 1000)
                    if "waiting" in value
                    else None,
                    _int(f"{at}.longest_wait", value["longest_wait"], 1, 3600)
                    if "longest_wait" in value
                    else None,
                )
    return Actions(**values)


def parse_rule(where: str, data: Any) -> Rule:
    if not isinstance(data, Mapping):
        raise RuleError(f"{where}: expected a mapping with name, when and then")
    _only(where, data, ("name", "description", "enabled", "when", "then"))
    name = data.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 64 or not name.strip():
        raise RuleError(f"{where}.name: expected a name of 1 to 64 characters")
    where = f"rule {name!r}"
    description = data.get("description", "")
    if not isinstance(description, str):
        raise RuleError(f"{where}.description: expected a text")
    return Rule(
        name=name,
        when=parse_conditions(f"{where}.when", data.get("when")),
        then=parse_actions(f"{where}.then", data.get("then")),
        enabled=_flag(f"{where}.enabled", data.get("enabled", True)),
        description=description,
    )


def parse_rules(data: Any) -> tuple[Rule, ...]:
    if not isinstance(data, list):
        raise RuleError("rules: expected a list of rules")
    rules = tuple(parse_rule(f"rules[{i}]", item) for i, item in enumerate(data))
    names = [rule.name for rule in rules]
    for name in names:
        if names.count(name) > 1:
            raise RuleError(f"rule {name!r}: two rules have this name")
    return rules


# --- deciding ----------------------------------------------------------------------------------


def _caller_kind(facts: CallFacts) -> str:
    if facts.caller_e164 is None:
        return "withheld"
    return "known" if facts.records else "unknown"


def matches(when: Conditions, facts: CallFacts, record: CallerRecord | None, tz: ZoneInfo) -> bool:
    """Do all the rule's conditions hold for this call? (an empty condition always holds)"""
    if when.caller and _caller_kind(facts) not in when.caller:
        return False
    if when.dialed and facts.dialed not in when.dialed:
        return False
    if when.time is not None and not when.time.contains(facts.now, tz):
        return False
    needs_record = (
        when.tier
        or when.language
        or when.tags_any
        or when.open_case is not None
        or when.overdue is not None
        or when.account_manager is not None
    )
    if not needs_record:
        return True
    if record is None:
        return False
    return (
        (not when.tier or record.tier in when.tier)
        and (not when.language or record.language in when.language)
        and (not when.tags_any or bool(set(when.tags_any) & set(record.tags)))
        and (when.open_case is None or (record.open_cases > 0) == when.open_case)
        and (when.overdue is None or (record.overdue_balance > 0) == when.overdue)
        and (
            when.account_manager is None
            or (record.account_manager_interface is not None) == when.account_manager
        )
    )


def _rank(record: CallerRecord) -> tuple[int, int, int]:
    """Which of several customers sharing a number most likely calls: VIPs, open cases."""
    return (0 if record.tier == "vip" else 1, -record.open_cases, record.customer_id)


def _fill(template: str, record: CallerRecord | None) -> str:
    if record is None:
        values = dict.fromkeys(REASON_FIELDS, "")
    else:
        values = {
            "name": record.name,
            "company": record.company or "",
            "tier": record.tier,
            "language": record.language,
            "manager": record.account_manager or "",
            "balance": str(record.overdue_balance),
            "last_agent": record.last_agent or "",
        }
    return template.format_map(values)


def _preferred(then: Actions, record: CallerRecord | None, now: dt.datetime) -> str | None:
    if record is None or then.preferred_agent is None:
        return None
    if then.preferred_agent == "account_manager":
        return record.account_manager_interface
    recent = record.last_contact_at is not None and now - record.last_contact_at <= dt.timedelta(
        days=then.last_agent_days
    )
    return record.last_agent_interface if recent else None


def decide(book: Rulebook, facts: CallFacts) -> RouteDecision:
    """The first enabled rule whose conditions hold decides; then overflow and opening hours."""
    ranked = sorted(facts.records, key=_rank)
    record = ranked[0] if ranked else None
    candidates = tuple(r.customer_id for r in ranked)
    rule = next(
        (r for r in book.rules if r.enabled and matches(r.when, facts, record, book.tz)),
        None,
    )
    if rule is None:
        kind = _caller_kind(facts)
        reason = {"withheld": "Number withheld", "unknown": "Unknown caller"}.get(
            kind, "No rule matched"
        )
        then = Actions(queue=book.default_queue)
        name = "default"
    else:
        then = rule.then
        name = rule.name
        reason = _fill(then.reason, record) if then.reason else rule.name
    notes = [reason]
    if len(ranked) > 1:
        notes.append(f"number shared by {len(ranked)} customers")

    queue = then.queue
    if then.overflow is not None:
        load = facts.load.get(queue, QueueLoad())
        limit = then.overflow
        if (limit.waiting is not None and load.waiting >= limit.waiting) or (
            limit.longest_wait is not None and load.longest_wait >= limit.longest_wait
        ):
            notes.append(
                f"overflow from {queue} ({load.waiting} waiting, "
                f"longest {int(load.longest_wait)} s)"
            )
            queue = limit.queue

    preferred = _preferred(then, record, facts.now)
    language = record.language if then.language == "customer" and record else then.language
    if language == "customer":
        language = None

    after_hours = None
    policy = book.queues.get(queue)
    if policy is not None and not policy.schedule.is_open(facts.now):
        after_hours = policy.after_hours
        preferred = None
        notes.append(f"{queue} is closed: {after_hours}")

    return RouteDecision(
        queue=queue,
        priority=then.priority,
        rule=name,
        reason="; ".join(notes),
        customer_id=record.customer_id if record else None,
        candidates=candidates,
        preferred_agent=preferred,
        preferred_seconds=then.preferred_seconds if preferred else 0,
        language=language,
        after_hours=after_hours,
    )
