"""Why a simulated call went where it went: the customers found, ranked as `decide` ranks
them, and each rule tried in order until the first that matched. Pure code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contact_center.bus.base import QueueLoad
from contact_center.routing.rules import (
    CallerRecord,
    CallFacts,
    RouteDecision,
    Rule,
    Rulebook,
    matches,
)
from contact_center.web.routing.describe import (
    Gettext,
    describe_actions,
    describe_conditions,
    describe_overflow,
    english,
)


@dataclass(frozen=True, slots=True)
class Trial:
    rule: Rule
    outcome: str
    when: str
    then: str


@dataclass(frozen=True, slots=True)
class Explanation:
    decision: RouteDecision
    e164: str | None
    local_time: dt.datetime
    customers: tuple[CallerRecord, ...]
    trials: tuple[Trial, ...]
    matched: Rule | None
    preferred_name: str | None
    overflow: str | None

    @property
    def shared(self) -> bool:
        return len(self.customers) > 1


def _ranked(facts: CallFacts, decision: RouteDecision) -> tuple[CallerRecord, ...]:
    """The customers in the order the decision ranked them (the first one is routed)."""
    by_id = {record.customer_id: record for record in facts.records}
    return tuple(by_id[i] for i in decision.candidates if i in by_id)


def _trials(
    book: Rulebook, facts: CallFacts, record: CallerRecord | None, _: Gettext
) -> list[Trial]:
    trials = []
    for rule in book.rules:
        if not rule.enabled:
            outcome = "disabled: skipped"
        elif matches(rule.when, facts, record, book.tz):
            outcome = "matched"
        else:
            outcome = "did not match"
        trials.append(
            Trial(rule, outcome, describe_conditions(rule.when, _), describe_actions(rule.then, _))
        )
        if outcome == "matched":
            break
    return trials


def _preferred_name(decision: RouteDecision, record: CallerRecord | None) -> str | None:
    if decision.preferred_agent is None or record is None:
        return None
    if decision.preferred_agent == record.account_manager_interface:
        return record.account_manager
    if decision.preferred_agent == record.last_agent_interface:
        return record.last_agent
    return None


def _overflow(
    matched: Rule | None, facts: CallFacts, decision: RouteDecision, _: Gettext
) -> str | None:
    if matched is None or matched.then.overflow is None:
        return None
    queue = matched.then.queue
    load = facts.load.get(queue, QueueLoad())
    now = _("now %(waiting)s waiting in %(queue)s, longest %(seconds)s s") % {
        "waiting": load.waiting,
        "queue": queue,
        "seconds": int(load.longest_wait),
    }
    words = {"rule": describe_overflow(matched.then.overflow, _), "now": now}
    if decision.queue == matched.then.overflow.queue != queue:
        return _("Overflowed: %(rule)s (%(now)s).") % words
    return _("No overflow: %(rule)s (%(now)s).") % words


def explain(
    book: Rulebook, facts: CallFacts, decision: RouteDecision, _: Gettext = english
) -> Explanation:
    """`_` is the reader's gettext: the sentences are in their language."""
    customers = _ranked(facts, decision)
    record = customers[0] if customers else None
    trials = _trials(book, facts, record, _)
    matched = trials[-1].rule if trials and trials[-1].outcome == "matched" else None
    return Explanation(
        decision=decision,
        e164=facts.caller_e164,
        local_time=facts.now.astimezone(book.tz),
        customers=customers,
        trials=tuple(trials),
        matched=matched,
        preferred_name=_preferred_name(decision, record),
        overflow=_overflow(matched, facts, decision, _),
    )
