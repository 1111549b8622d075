"""Rules and queue settings in plain words, for the routing pages. Pure code.

Every function takes the reader's `gettext` (English when none is given): the words are in
the translation catalogs, the rule vocabulary (queue names, tiers, tags) stays as written."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from contact_center.routing.rules import Actions, Conditions, Overflow

Gettext = Callable[[str], str]


def english(text: str) -> str:
    return text


def _either(items: Sequence[str], _: Gettext) -> str:
    return (" " + _("or") + " ").join(items)


def _yes_no(value: bool, yes: str, no: str) -> str:
    return yes if value else no


def describe_conditions(when: Conditions, _: Gettext = english) -> str:
    """E.g. "tier is vip and has a key-account manager"; "every call" when empty."""
    caller_words = {
        "known": _("a known customer"),
        "unknown": _("unknown"),
        "withheld": _("withheld"),
    }
    parts: list[str] = []
    if when.caller:
        callers = _either([caller_words.get(c, c) for c in when.caller], _)
        parts.append(_("caller is %(callers)s") % {"callers": callers})
    if when.tier:
        parts.append(_("tier is %(tiers)s") % {"tiers": _either(when.tier, _)})
    if when.language:
        parts.append(_("language is %(languages)s") % {"languages": _either(when.language, _)})
    if when.tags_any:
        parts.append(_("tagged %(tags)s") % {"tags": _either(when.tags_any, _)})
    if when.open_case is not None:
        parts.append(_yes_no(when.open_case, _("has an open case"), _("has no open case")))
    if when.overdue is not None:
        parts.append(
            _yes_no(when.overdue, _("has an overdue balance"), _("has no overdue balance"))
        )
    if when.account_manager is not None:
        parts.append(
            _yes_no(
                when.account_manager,
                _("has a key-account manager"),
                _("has no key-account manager"),
            )
        )
    if when.dialed:
        parts.append(_("dialed %(numbers)s") % {"numbers": _either(when.dialed, _)})
    if when.time is not None:
        window = when.time.dump()
        parts.append(
            _("on %(days)s from %(start)s to %(end)s")
            % {"days": ", ".join(window["days"]), "start": window["from"], "end": window["to"]}
        )
    return (" " + _("and") + " ").join(parts) or _("every call")


def describe_overflow(overflow: Overflow, _: Gettext = english) -> str:
    limits = []
    if overflow.waiting is not None:
        limits.append(_("%(count)s waiting") % {"count": overflow.waiting})
    if overflow.longest_wait is not None:
        limits.append(
            _("the longest wait reaches %(seconds)s s") % {"seconds": overflow.longest_wait}
        )
    return _("overflow to %(queue)s when %(limits)s") % {
        "queue": overflow.queue,
        "limits": _either(limits, _),
    }


def describe_actions(then: Actions, _: Gettext = english) -> str:
    """E.g. "queue vip, priority 10, ring key-account manager first for 15 s"."""
    parts = [_("queue %(queue)s") % {"queue": then.queue}]
    if then.priority:
        parts.append(_("priority %(priority)s") % {"priority": then.priority})
    if then.preferred_agent is not None:
        agent_words = {"account_manager": _("key-account manager"), "last_agent": _("last agent")}
        who = agent_words.get(then.preferred_agent, then.preferred_agent)
        if then.preferred_agent == "last_agent":
            who += " " + _("(of the last %(days)s days)") % {"days": then.last_agent_days}
        parts.append(
            _("ring %(who)s first for %(seconds)s s")
            % {"who": who, "seconds": then.preferred_seconds}
        )
    if then.language == "customer":
        parts.append(_("in the customer's language"))
    elif then.language is not None:
        parts.append(_("language %(language)s") % {"language": then.language})
    if then.overflow is not None:
        parts.append(describe_overflow(then.overflow, _))
    if then.reason:
        parts.append(_("reason “%(reason)s”") % {"reason": then.reason})
    return ", ".join(parts)


def describe_hours(hours: dict[str, object], _: Gettext = english) -> str:
    """A queue's weekly hours as stored, e.g. "mon 09:00-17:00; tue ..."; "always open"."""
    if not hours:
        return _("always open")
    return "; ".join(f"{day} {spans_text(spans)}" for day, spans in hours.items())


def spans_text(spans: object) -> str:
    if isinstance(spans, list | tuple):
        return ", ".join(str(span) for span in spans)
    return str(spans)
