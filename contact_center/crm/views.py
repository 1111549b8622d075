"""What the CRM services hand back: frozen dataclasses, never ORM rows or dicts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from contact_center.crm.checks import MAX_ID
from contact_center.errors import SearchInvalid

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_TOKEN = re.compile(r"(-?[0-9]{1,18})\.([0-9]{1,10})", re.ASCII)


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where a history page ends: the next page holds what sorts after it, newest first,
    by (started_at, id). ``token()`` is a URL-safe text form; ``parse`` reads it back."""

    started_at: dt.datetime
    id: int

    def token(self) -> str:
        return f"{(self.started_at - _EPOCH) // _MICROSECOND}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> HistoryCursor:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise SearchInvalid("not a history cursor")
        try:
            started_at = _EPOCH + int(match[1]) * _MICROSECOND
        except OverflowError as err:
            raise SearchInvalid("not a history cursor") from err
        ident = int(match[2])
        if ident > MAX_ID:
            raise SearchInvalid("not a history cursor")
        return cls(started_at, ident)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One interaction of a customer: a call, or a contact logged by hand."""

    id: int
    channel: str
    """voice, email, meeting or note."""
    direction: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str
    disposition: str | None
    subject: str
    notes: str
    queue: str | None
    agent_id: int | None
    agent_name: str | None
    """Display name of the agent who answered the call or had the contact."""
    caller_number: str
    route_rule: str | None
    route_reason: str | None
    wait_seconds: float | None
    ring_seconds: float | None
    talk_seconds: float | None
    hold_seconds: float | None
    wrapup_seconds: float | None
    transfers: int
    complete: bool
    """False when the bridge could not see the whole call (its missing figures are None)."""

    @property
    def by_hand(self) -> bool:
        return self.channel != "voice"

    @property
    def cursor(self) -> HistoryCursor:
        return HistoryCursor(self.started_at, self.id)


@dataclass(frozen=True, slots=True)
class TaskView:
    """A follow-up or a callback, with the names a page shows."""

    id: int
    kind: str
    """callback or follow_up."""
    status: str
    """open, done or cancelled."""
    title: str
    notes: str
    due_at: dt.datetime
    customer_id: int | None
    customer_name: str | None
    phone_number: str
    """E.164, or empty for a follow-up of a customer without a number given."""
    queue: str | None
    assigned_to_id: int | None
    assigned_to_name: str | None
    interaction_id: int | None
    """The call (or contact) that did the task, once it is done."""
    created_by_id: int | None
    created_at: dt.datetime
    done_at: dt.datetime | None

    def overdue(self, now: dt.datetime) -> bool:
        return self.status == "open" and self.due_at < now


@dataclass(frozen=True, slots=True)
class HistoryPage:
    customer_id: int
    entries: tuple[HistoryEntry, ...]
    """Newest first."""
    open_tasks: tuple[TaskView, ...]
    """The customer's open tasks, soonest due first: on the first page only (``before``
    None), empty on the pages after it."""
    next_before: HistoryCursor | None
    """Pass it as ``before`` for the next (older) page; None when this page is the last."""


@dataclass(frozen=True, slots=True)
class PhoneView:
    e164: str
    label: str


@dataclass(frozen=True, slots=True)
class CaseView:
    id: int
    subject: str
    opened_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """What the screen pop shows about a customer."""

    id: int
    name: str
    company: str | None
    tier: str
    language: str
    account_manager_id: int | None
    account_manager_name: str | None
    tags: tuple[str, ...]
    notes: str
    overdue_balance: Decimal
    open_case_count: int
    open_cases: tuple[CaseView, ...]
    """The most recently opened ones, at most ``CARD_CASES``; the count is of all."""
    phone_numbers: tuple[PhoneView, ...]


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """One customer found by the desktop's search."""

    id: int
    name: str
    company: str | None
    tier: str
    language: str
    phone_numbers: tuple[PhoneView, ...]
