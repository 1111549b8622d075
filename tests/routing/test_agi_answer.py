"""The routing answer over FastAGI: the decision packed in CC_ROUTE, the reason apart."""

from __future__ import annotations

import pytest

from contact_center.agi import protocol
from contact_center.routing.agi_route import ROUTE_FIELDS, answer, unpack
from contact_center.routing.rules import RouteDecision


def decision(**values: object) -> RouteDecision:
    fields: dict[str, object] = {
        "queue": "vip",
        "priority": 10,
        "customer_id": 42,
        "candidates": (42, 7, 9),
        "rule": "vip",
        "reason": "VIP, key account of Anna Nowak",
        "preferred_agent": "PJSIP/agent-1001",
        "preferred_seconds": 15,
        "language": "pl",
        "after_hours": None,
    }
    fields.update(values)
    return RouteDecision(**fields)  # type: ignore[arg-type]


def test_every_field_in_order_and_the_reason_apart() -> None:
    values = answer(decision())
    assert values["CC_ROUTE"] == "vip^10^42^7,9^PJSIP/agent-1001^15^pl^^vip"
    assert values["CC_ROUTE_REASON"] == "VIP, key account of Anna Nowak"
    assert unpack(values["CC_ROUTE"]) == {
        "CC_QUEUE": "vip",
        "CC_QUEUE_PRIORITY": "10",
        "CC_CUSTOMER_ID": "42",
        "CC_CANDIDATES": "7,9",
        "CC_PREFERRED_AGENT": "PJSIP/agent-1001",
        "CC_PREFERRED_SECONDS": "15",
        "CC_LANGUAGE": "pl",
        "CC_AFTER_HOURS": "",
        "CC_ROUTE_RULE": "vip",
    }


def test_an_unknown_caller_sends_the_queue_and_nothing_else() -> None:
    values = answer(
        decision(
            queue="main",
            priority=0,
            customer_id=None,
            candidates=(),
            rule="default",
            reason="",
            preferred_agent=None,
            language=None,
        )
    )
    assert values == {"CC_ROUTE": "main^^^^^^^^default"}


@pytest.mark.parametrize(
    "name", ["a^b", "^^^", 'Coll ^ 2, ${SHELL(id)} "x" (y); |z', "Zażółć ^ Олена"]
)
def test_a_rule_name_with_the_separator_comes_back_whole(name: str) -> None:
    values = answer(decision(rule=name, after_hours="voicemail"))
    unpacked = unpack(values["CC_ROUTE"])
    assert unpacked["CC_ROUTE_RULE"] == name
    assert unpacked["CC_AFTER_HOURS"] == "voicemail"
    assert len(unpacked) == len(ROUTE_FIELDS)
    protocol.set_variable("CC_ROUTE", values["CC_ROUTE"])  # fits one AGI command


def test_a_preferred_agent_that_cannot_be_sent_leaves_the_queue_to_ring() -> None:
    unpacked = unpack(answer(decision(preferred_agent="PJSIP/a^b"))["CC_ROUTE"])
    assert (unpacked["CC_PREFERRED_AGENT"], unpacked["CC_PREFERRED_SECONDS"]) == ("", "")
    assert (unpacked["CC_QUEUE"], unpacked["CC_CUSTOMER_ID"]) == ("vip", "42")


def test_a_separator_in_a_queue_name_is_a_bug_and_refused() -> None:
    with pytest.raises(ValueError, match="CC_QUEUE"):
        answer(decision(queue="a^b"))
