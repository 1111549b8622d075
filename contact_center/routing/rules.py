"""The routing rules, as plain functions: a caller's records in, one decision out.

No I/O here: `service.py` looks the caller up and hands the result in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

LANGUAGE_QUEUES = {"pl": "support-pl", "uk": "support-uk", "en": "support-en"}
VIP_PRIORITY = 10


@dataclass(frozen=True, slots=True)
class CallerRecord:
    """What routing needs to know about one customer a number belongs to."""

    customer_id: int
    name: str
    tier: str
    language: str
    overdue_balance: Decimal
    account_manager: str | None


@dataclass(frozen=True, slots=True)
class RouteDecision:
    queue: str
    priority: int
    rule: str
    reason: str
    customer_id: int | None = None
    candidates: tuple[int, ...] = ()


def _rank(record: CallerRecord) -> tuple[int, int]:
    return (0 if record.tier == "vip" else 1, record.customer_id)


def decide(
    caller_e164: str | None, records: Sequence[CallerRecord], *, default_queue: str
) -> RouteDecision:
    """Pick the queue for a caller from the customers their number belongs to."""
    if caller_e164 is None:
        return RouteDecision(default_queue, 0, "withheld", "Number withheld or not valid")
    if not records:
        return RouteDecision(default_queue, 0, "unknown", "Unknown caller")

    ranked = sorted(records, key=_rank)
    record = ranked[0]
    candidates = tuple(r.customer_id for r in ranked)
    shared = f"; number shared by {len(ranked)} customers" if len(ranked) > 1 else ""

    if record.overdue_balance > 0:
        return RouteDecision(
            "collections",
            0,
            "overdue",
            f"Overdue balance {record.overdue_balance}{shared}",
            record.customer_id,
            candidates,
        )
    if record.tier == "vip":
        manager = f", key account of {record.account_manager}" if record.account_manager else ""
        return RouteDecision(
            "vip",
            VIP_PRIORITY,
            "vip",
            f"VIP{manager}{shared}",
            record.customer_id,
            candidates,
        )
    queue = LANGUAGE_QUEUES.get(record.language)
    if queue is not None:
        return RouteDecision(
            queue,
            0,
            "language",
            f"Preferred language {record.language}{shared}",
            record.customer_id,
            candidates,
        )
    return RouteDecision(
        default_queue, 0, "customer", f"Known customer{shared}", record.customer_id, candidates
    )
