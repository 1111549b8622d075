"""Each rule condition and action, on plain data: no database, no sockets."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from contact_center.bus import QueueLoad
from contact_center.errors import RuleError
from contact_center.routing.rulebook import load_yaml
from contact_center.routing.rules import CallerRecord, CallFacts, Rulebook, decide, parse_rules

WARSAW_TUESDAY_10 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)  # 10:00 in Warsaw
WARSAW_TUESDAY_21 = dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)
WARSAW_SUNDAY_10 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
CHRISTMAS_10 = dt.datetime(2026, 12, 25, 9, 0, tzinfo=dt.UTC)


def record(customer_id: int = 1, **values: Any) -> CallerRecord:
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "name": "Anna Kowalska",
        "tier": "standard",
        "language": "pl",
        "overdue_balance": Decimal("0"),
    }
    fields.update(values)
    return CallerRecord(**fields)


def book(yaml_text: str) -> Rulebook:
    return load_yaml(yaml_text).build("main", "Europe/Warsaw")


def facts(
    *records: CallerRecord,
    number: str | None = "+48601234567",
    dialed: str = "800100200",
    now: dt.datetime = WARSAW_TUESDAY_10,
    load: dict[str, QueueLoad] | None = None,
) -> CallFacts:
    return CallFacts(number, records, dialed, now, load or {})


RULES = """
queues:
  collections: {hours: {mon: "09:00-17:00", tue: "09:00-17:00"}, after_hours: message}
  support-pl: {hours: {mon: "08:00-18:00", tue: "08:00-18:00"}, holidays: ["2026-12-25"],
               after_hours: callback}
rules:
  - name: brand-b
    when: {dialed: ["800999999"]}
    then: {queue: brand-b, reason: "Brand B hotline"}
  - name: collections
    when: {overdue: true}
    then: {queue: collections, reason: "Overdue balance {balance}"}
  - name: open-case
    when: {open_case: true}
    then: {queue: cases, priority: 5, reason: "Open case"}
  - name: vip-key-account
    when: {tier: vip, account_manager: true}
    then: {queue: vip, priority: 10, preferred_agent: account_manager, preferred_seconds: 15,
           language: customer, reason: "VIP, key account of {manager}"}
  - name: vip
    when: {tier: [vip]}
    then: {queue: vip, priority: 10, reason: VIP}
  - name: partners
    when: {tags_any: [partner, reseller]}
    then: {queue: partners}
  - name: night-owls
    when: {time: {days: [mon, tue, wed, thu, fri], from: "20:00", to: "24:00"}}
    then: {queue: night}
  - name: polish
    when: {language: pl}
    then: {queue: support-pl, language: pl, preferred_agent: last_agent, last_agent_days: 7,
           overflow: {queue: overflow, waiting: 3, longest_wait: 60},
           reason: "Preferred language pl"}
  - name: unknown
    when: {caller: [unknown]}
    then: {queue: main, reason: "Unknown caller"}
"""


def test_withheld_number_takes_the_default() -> None:
    decision = decide(book(RULES), facts(number=None))
    assert (decision.queue, decision.rule, decision.reason) == (
        "main",
        "default",
        "Number withheld",
    )
    assert decision.customer_id is None


def test_unknown_caller_rule() -> None:
    decision = decide(book(RULES), facts())
    assert (decision.queue, decision.rule, decision.reason) == ("main", "unknown", "Unknown caller")


def test_dialed_number_picks_the_brand_before_anything_else() -> None:
    decision = decide(book(RULES), facts(record(tier="vip"), dialed="800999999"))
    assert (decision.queue, decision.rule) == ("brand-b", "brand-b")


def test_overdue_balance_goes_to_collections_with_the_amount() -> None:
    decision = decide(book(RULES), facts(record(overdue_balance=Decimal("120.50"))))
    assert (decision.queue, decision.reason) == ("collections", "Overdue balance 120.50")


def test_open_case() -> None:
    decision = decide(book(RULES), facts(record(open_cases=2)))
    assert (decision.queue, decision.priority, decision.rule) == ("cases", 5, "open-case")


def test_vip_with_key_account_manager_rings_the_manager_first() -> None:
    vip = record(
        7,
        tier="vip",
        language="uk",
        account_manager="Anna Nowak",
        account_manager_interface="PJSIP/agent-1001",
    )
    decision = decide(book(RULES), facts(vip))
    assert (decision.queue, decision.priority, decision.customer_id) == ("vip", 10, 7)
    assert decision.reason == "VIP, key account of Anna Nowak"
    assert (decision.preferred_agent, decision.preferred_seconds) == ("PJSIP/agent-1001", 15)
    assert decision.language == "uk"  # the customer's


def test_vip_without_manager_takes_the_next_rule() -> None:
    decision = decide(book(RULES), facts(record(tier="vip")))
    assert (decision.rule, decision.preferred_agent, decision.reason) == ("vip", None, "VIP")


def test_tags() -> None:
    decision = decide(book(RULES), facts(record(language="en", tags=("reseller",))))
    assert decision.queue == "partners"


def test_time_window_in_the_center_time_zone() -> None:
    english = record(language="en")
    assert decide(book(RULES), facts(english, now=WARSAW_TUESDAY_21)).queue == "night"
    assert decide(book(RULES), facts(english, now=WARSAW_TUESDAY_10)).rule == "default"


def test_last_agent_within_the_days_rings_first() -> None:
    recent = record(
        last_agent="Paweł Wiśniewski",
        last_agent_interface="PJSIP/agent-1002",
        last_contact_at=WARSAW_TUESDAY_10 - dt.timedelta(days=3),
    )
    decision = decide(book(RULES), facts(recent))
    assert (decision.queue, decision.preferred_agent) == ("support-pl", "PJSIP/agent-1002")
    stale = dataclasses.replace(recent, last_contact_at=WARSAW_TUESDAY_10 - dt.timedelta(days=8))
    assert decide(book(RULES), facts(stale)).preferred_agent is None


@pytest.mark.parametrize(
    ("load", "queue"),
    [
        (QueueLoad(2, 59.0), "support-pl"),
        (QueueLoad(3, 0.0), "overflow"),
        (QueueLoad(0, 60.0), "overflow"),
    ],
)
def test_overflow_by_waiting_callers_or_longest_wait(load: QueueLoad, queue: str) -> None:
    decision = decide(book(RULES), facts(record(), load={"support-pl": load}))
    assert decision.queue == queue
    assert ("overflow from support-pl" in decision.reason) == (queue == "overflow")


def test_closed_queue_takes_its_after_hours_path() -> None:
    on_sunday = decide(book(RULES), facts(record(), now=WARSAW_SUNDAY_10))
    assert (on_sunday.queue, on_sunday.after_hours) == ("support-pl", "callback")
    assert on_sunday.preferred_agent is None
    assert "support-pl is closed: callback" in on_sunday.reason
    at_christmas = decide(book(RULES), facts(record(), now=CHRISTMAS_10))
    assert at_christmas.after_hours == "callback"
    evening = decide(book(RULES), facts(record(overdue_balance=Decimal(1)), now=WARSAW_TUESDAY_21))
    assert (evening.queue, evening.after_hours) == ("collections", "message")
    assert decide(book(RULES), facts(record())).after_hours is None


def test_shared_number_ranks_candidates_and_says_so() -> None:
    decision = decide(book(RULES), facts(record(3), record(9, tier="vip")))
    assert decision.customer_id == 9
    assert decision.candidates == (9, 3)
    assert decision.reason == "VIP; number shared by 2 customers"


def test_disabled_rules_are_skipped() -> None:
    disabled = book(
        RULES.replace("  - name: collections\n", "  - name: collections\n    enabled: false\n")
    )
    decision = decide(disabled, facts(record(overdue_balance=Decimal(5))))
    assert decision.rule == "polish"


def test_no_rules_at_all_routes_everything_to_the_default_queue() -> None:
    decision = decide(Rulebook(), facts(record(tier="vip")))
    assert (decision.queue, decision.rule, decision.customer_id) == ("main", "default", 1)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"name": "x", "then": {}}], "at least a queue"),
        ([{"name": "x", "then": {"queue": "a b"}}], "queue name"),
        ([{"name": "x", "when": {"tier": "gold"}, "then": {"queue": "q"}}], "'gold'"),
        ([{"name": "x", "when": {"colour": "red"}, "then": {"queue": "q"}}], "'colour'"),
        ([{"name": "x", "then": {"queue": "q", "priority": 1000}}], "0 to 100"),
        ([{"name": "x", "then": {"queue": "q", "reason": "{name.__class__}"}}], "is not one of"),
        ([{"name": "x", "then": {"queue": "q", "reason": "{secret}"}}], "is not one of"),
        ([{"name": "x", "when": {"time": {"from": "25:00"}}, "then": {"queue": "q"}}], "25:00"),
        ([{"name": "x", "then": {"queue": "q", "overflow": {"queue": "o"}}}], "waiting"),
        ([{"name": "x", "then": {"queue": "q"}}, {"name": "x", "then": {"queue": "q"}}], "two"),
        ("not a list", "list of rules"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(rules: Any, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(rules)
