"""Rules and queue settings in plain words, for the routing pages. Pure code."""

from __future__ import annotations

from collections.abc import Sequence

from contact_center.routing.rules import Actions, Conditions, Overflow

CALLER_WORDS = {"known": "a known customer", "unknown": "unknown", "withheld": "withheld"}
AGENT_WORDS = {"account_manager": "key-account manager", "last_agent": "last agent"}


def _either(items: Sequence[str]) -> str:
    return " or ".join(items)


def _yes_no(value: bool, yes: str, no: str) -> str:
    return yes if value else no


def describe_conditions(when: Conditions) -> str:
    """E.g. "tier is vip and has a key-account manager"; "every call" when empty."""
    parts: list[str] = []
    if when.caller:
        parts.append("caller is " + _either([CALLER_WORDS.get(c, c) for c in when.caller]))
    if when.tier:
        parts.append("tier is " + _either(when.tier))
    if when.language:
        parts.append("language is " + _either(when.language))
    if when.tags_any:
        parts.append("tagged " + _either(when.tags_any))
    if when.open_case is not None:
        parts.append(_yes_no(when.open_case, "has an open case", "has no open case"))
    if when.overdue is not None:
        parts.append(_yes_no(when.overdue, "has an overdue balance", "has no overdue balance"))
    if when.account_manager is not None:
        parts.append(
            _yes_no(
                when.account_manager,
                "has a key-account manager",
                "has no key-account manager",
            )
        )
    if when.dialed:
        parts.append("dialed " + _either(when.dialed))
    if when.time is not None:
        window = when.time.dump()
        parts.append(f"on {', '.join(window['days'])} from {window['from']} to {window['to']}")
    return " and ".join(parts) or "every call"


def describe_overflow(overflow: Overflow) -> str:
    limits = []
    if overflow.waiting is not None:
        limits.append(f"{overflow.waiting} waiting")
    if overflow.longest_wait is not None:
        limits.append(f"the longest wait reaches {overflow.longest_wait} s")
    return f"overflow to {overflow.queue} when {' or '.join(limits)}"


def describe_actions(then: Actions) -> str:
    """E.g. "queue vip, priority 10, ring key-account manager first for 15 s"."""
    parts = [f"queue {then.queue}"]
    if then.priority:
        parts.append(f"priority {then.priority}")
    if then.preferred_agent is not None:
        who = AGENT_WORDS.get(then.preferred_agent, then.preferred_agent)
        if then.preferred_agent == "last_agent":
            who += f" (of the last {then.last_agent_days} days)"
        parts.append(f"ring {who} first for {then.preferred_seconds} s")
    if then.language == "customer":
        parts.append("in the customer's language")
    elif then.language is not None:
        parts.append(f"language {then.language}")
    if then.overflow is not None:
        parts.append(describe_overflow(then.overflow))
    if then.reason:
        parts.append(f"reason “{then.reason}”")
    return ", ".join(parts)


def describe_hours(hours: dict[str, object]) -> str:
    """A queue's weekly hours as stored, e.g. "mon 09:00-17:00; tue ..."; "always open"."""
    if not hours:
        return "always open"
    return "; ".join(f"{day} {spans_text(spans)}" for day, spans in hours.items())


def spans_text(spans: object) -> str:
    if isinstance(spans, list | tuple):
        return ", ".join(str(span) for span in spans)
    return str(spans)
