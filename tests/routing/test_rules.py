from decimal import Decimal

from contact_center.routing.rules import CallerRecord, decide


def record(customer_id: int = 1, **values: object) -> CallerRecord:
    fields: dict[str, object] = {
        "customer_id": customer_id,
        "name": "Anna Kowalska",
        "tier": "standard",
        "language": "pl",
        "overdue_balance": Decimal("0"),
        "account_manager": None,
    }
    fields.update(values)
    return CallerRecord(**fields)  # type: ignore[arg-type]


def test_withheld_number_goes_to_default_queue() -> None:
    decision = decide(None, [], default_queue="main")
    assert (decision.queue, decision.rule, decision.customer_id) == ("main", "withheld", None)


def test_unknown_number_goes_to_default_queue() -> None:
    decision = decide("+48601234567", [], default_queue="main")
    assert (decision.queue, decision.rule, decision.reason) == (
        "main",
        "unknown",
        "Unknown caller",
    )


def test_vip_with_key_account_manager() -> None:
    decision = decide(
        "+48601234567",
        [record(7, tier="vip", account_manager="Anna Nowak")],
        default_queue="main",
    )
    assert decision.queue == "vip"
    assert decision.priority > 0
    assert decision.customer_id == 7
    assert decision.reason == "VIP, key account of Anna Nowak"


def test_overdue_balance_goes_to_collections_before_vip() -> None:
    decision = decide(
        "+48601234567",
        [record(tier="vip", overdue_balance=Decimal("120.50"))],
        default_queue="main",
    )
    assert (decision.queue, decision.rule) == ("collections", "overdue")
    assert "120.50" in decision.reason


def test_language_queue() -> None:
    for language, queue in (("pl", "support-pl"), ("uk", "support-uk"), ("en", "support-en")):
        decision = decide("+48601234567", [record(language=language)], default_queue="main")
        assert (decision.queue, decision.rule) == (queue, "language")


def test_language_without_a_queue_goes_to_default() -> None:
    decision = decide("+48601234567", [record(language="de")], default_queue="main")
    assert (decision.queue, decision.rule, decision.customer_id) == ("main", "customer", 1)


def test_shared_number_ranks_candidates_and_says_so() -> None:
    decision = decide(
        "+48221234567",
        [record(3), record(9, tier="vip")],
        default_queue="main",
    )
    assert decision.customer_id == 9
    assert decision.candidates == (9, 3)
    assert "shared by 2 customers" in decision.reason
