"""THE one definition of every figure the contact center reports.

Reports, the wallboard and the CSV exports all count with the expressions below; nothing
else decides what "answered" or "within service level" means. Definitions (also in the
README, "Reports and metrics"):

- A **call** is an inbound voice interaction; it belongs to the period its ``started_at``
  falls in (``since <= started_at < until``, UTC instants).
- **Offered**: a call that reached a queue (its ``queue`` is set) and did not end on an
  after-hours path (``after_hours_message``, ``voicemail``, ``callback_requested``) or before
  queueing (``unqueued``). Every offered call is exactly one of:
  **answered** (outcome ``answered``); **abandoned** (the caller hung up while waiting, after
  ``SHORT_ABANDON_SECONDS`` or more); **short abandon** (hung up within less than
  ``SHORT_ABANDON_SECONDS``: a misdial, counted apart and left out of service level and
  abandon rate); **exited** (the queue let the caller go unanswered: ``timeout``,
  ``left_empty``, ``queue_full``, ``withdrawn``); **unknown** (the bridge never saw the end).
- **Within service level**: answered with a wait of at most the queue's
  ``service_level_seconds`` (table ``queues``; ``DEFAULT_SERVICE_LEVEL_SECONDS`` for a queue
  not in the table). **Service level** = within service level / (offered - short abandons).
- **Abandon rate** = abandoned / (offered - short abandons).
- **ASA** (average speed of answer) = mean wait of answered calls (wait: from the first
  offer to the answer). **Handle time** of an answered call = talk + hold + wrap-up;
  **AHT** is its mean over answered calls whose talk time is known; average talk, hold and
  wrap-up likewise.
- **Transferred**: answered calls with at least one transfer (``transfers`` counts them all).
- **First-contact resolution**: an answered call is resolved at first contact when the same
  caller (the customer when known, else the caller's E.164 number; withheld numbers are left
  out) makes no other inbound call within ``FCR_DAYS`` days after it started. FCR = resolved /
  answered calls of identified callers. Calls of the last days of a period are judged with
  what is known now (today's figure can only go down).
- **Repeat caller**: an identified caller with two or more offered calls in the period.
- **Occupancy** of an agent = handle time / (logged-in time - paused time) (``occupancy``),
  the times from the logged-in and paused stretches the bridge keeps (``agent_periods``,
  summed by ``contact_center/analytics/agent_time.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import KeyedColumnElement

from contact_center.storage.models import TIER_VALUES, Customer, Interaction, Queue

SHORT_ABANDON_SECONDS = 5.0
"""A caller who hangs up sooner than this was not really waiting: a short abandon."""
DEFAULT_SERVICE_LEVEL_SECONDS = 20
"""The service level threshold of a queue the ``queues`` table does not know."""
FCR_DAYS = 7
"""A caller who calls again within this many days was not resolved at first contact."""
REPEAT_CALLS = 2
"""A caller with this many offered calls in a period is a repeat caller."""

AFTER_HOURS_OUTCOMES = ("after_hours_message", "voicemail", "callback_requested")
NOT_OFFERED_OUTCOMES = (*AFTER_HOURS_OUTCOMES, "unqueued")
EXITED_OUTCOMES = ("timeout", "left_empty", "queue_full", "withdrawn")

Expression = ColumnElement[Any] | QueryableAttribute[Any]
"""A column or an expression over columns."""


# --- the definitions, as SQL expressions over interactions (joined to queues) ---------------


def is_call() -> ColumnElement[bool]:
    return and_(Interaction.channel == "voice", Interaction.direction == "inbound")


def in_period(since: dt.datetime, until: dt.datetime) -> ColumnElement[bool]:
    return and_(Interaction.started_at >= since, Interaction.started_at < until)


def offered() -> ColumnElement[bool]:
    return and_(
        is_call(),
        Interaction.queue.is_not(None),
        Interaction.outcome.not_in(NOT_OFFERED_OUTCOMES),
    )


def answered() -> ColumnElement[bool]:
    return Interaction.outcome == "answered"


def short_abandoned() -> ColumnElement[bool]:
    return and_(
        Interaction.outcome == "abandoned", Interaction.wait_seconds < SHORT_ABANDON_SECONDS
    )


def abandoned() -> ColumnElement[bool]:
    return and_(
        Interaction.outcome == "abandoned",
        or_(Interaction.wait_seconds.is_(None), Interaction.wait_seconds >= SHORT_ABANDON_SECONDS),
    )


def exited() -> ColumnElement[bool]:
    return Interaction.outcome.in_(EXITED_OUTCOMES)


def unknown() -> ColumnElement[bool]:
    return Interaction.outcome == "unknown"


def service_level_threshold() -> ColumnElement[int]:
    """The call's queue's threshold in seconds (needs the outer join to ``queues``)."""
    return func.coalesce(Queue.service_level_seconds, DEFAULT_SERVICE_LEVEL_SECONDS)


def within_service_level() -> ColumnElement[bool]:
    return and_(answered(), Interaction.wait_seconds <= service_level_threshold())


def handle_seconds() -> ColumnElement[float]:
    return (
        func.coalesce(Interaction.talk_seconds, 0.0)
        + func.coalesce(Interaction.hold_seconds, 0.0)
        + func.coalesce(Interaction.wrapup_seconds, 0.0)
    )


def caller_key() -> ColumnElement[str | None]:
    """Who called, as one text key: the customer when known ("123"), else the E.164 number
    ("+48..."), else NULL (withheld or unreadable numbers are nobody in particular)."""
    return func.coalesce(cast(Interaction.customer_id, String), Interaction.caller_e164)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """COUNT(*) FILTER (WHERE condition): cheaper per row than SUM(CASE ...) (SQLite 3.30+)."""
    return func.count().filter(condition)


def _total(condition: ColumnElement[bool], value: Expression) -> ColumnElement[float]:
    return func.coalesce(func.sum(value).filter(condition), 0.0)


def figure_columns() -> list[KeyedColumnElement[Any]]:
    """The aggregate columns of ``Figures``, labelled by field name, over rows that are
    offered calls (the caller restricts the rows with ``offered()``)."""
    known_wait = and_(answered(), Interaction.wait_seconds.is_not(None))
    handled = and_(answered(), Interaction.talk_seconds.is_not(None))
    return [
        func.count().label("offered"),
        _count(answered()).label("answered"),
        _count(within_service_level()).label("within_service_level"),
        _count(abandoned()).label("abandoned"),
        _count(short_abandoned()).label("short_abandoned"),
        _count(exited()).label("exited"),
        _count(unknown()).label("unknown"),
        _count(known_wait).label("answered_with_wait"),
        _total(known_wait, Interaction.wait_seconds).label("answer_wait_seconds"),
        _count(and_(abandoned(), Interaction.wait_seconds.is_not(None))).label(
            "abandoned_with_wait"
        ),
        _total(abandoned(), Interaction.wait_seconds).label("abandon_wait_seconds"),
        func.coalesce(func.max(Interaction.wait_seconds), 0.0).label("longest_wait_seconds"),
        _count(handled).label("handled"),
        _total(handled, func.coalesce(Interaction.talk_seconds, 0.0)).label("talk_seconds"),
        _total(handled, func.coalesce(Interaction.hold_seconds, 0.0)).label("hold_seconds"),
        _total(handled, func.coalesce(Interaction.wrapup_seconds, 0.0)).label("wrapup_seconds"),
        _count(and_(answered(), Interaction.transfers > 0)).label("transferred"),
        _total(answered(), Interaction.transfers).label("transfers"),
    ]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclasses.dataclass(frozen=True, slots=True)
class Figures:
    """Counts and sums over offered calls; they add up (an hour's figures plus the next
    hour's are the two hours' figures), and the rates and averages are derived from them."""

    offered: int = 0
    answered: int = 0
    within_service_level: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    exited: int = 0
    unknown: int = 0
    answered_with_wait: int = 0
    answer_wait_seconds: float = 0.0
    abandoned_with_wait: int = 0
    abandon_wait_seconds: float = 0.0
    longest_wait_seconds: float = 0.0
    handled: int = 0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    wrapup_seconds: float = 0.0
    transferred: int = 0
    transfers: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Figures:
        values: dict[str, Any] = {name: kind(row[name] or 0) for name, kind in _FIELDS}
        return cls(**values)

    def __add__(self, other: Figures) -> Figures:
        return Figures.from_sums(Sums.of(self).add(Sums.of(other)))

    @classmethod
    def from_sums(cls, sums: Sums) -> Figures:
        values: dict[str, Any] = {
            name: kind(value) for (name, kind), value in zip(_FIELDS, sums.values, strict=True)
        }
        return cls(**values)

    @property
    def counted(self) -> int:
        """The service level's and abandon rate's denominator: offered less short abandons."""
        return self.offered - self.short_abandoned

    @property
    def service_level(self) -> float | None:
        return _ratio(self.within_service_level, self.counted)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.counted)

    @property
    def answer_rate(self) -> float | None:
        return _ratio(self.answered, self.counted)

    @property
    def asa(self) -> float | None:
        """Average speed of answer, seconds."""
        return _ratio(self.answer_wait_seconds, self.answered_with_wait)

    @property
    def average_abandon_wait(self) -> float | None:
        return _ratio(self.abandon_wait_seconds, self.abandoned_with_wait)

    @property
    def handle_seconds(self) -> float:
        return self.talk_seconds + self.hold_seconds + self.wrapup_seconds

    @property
    def aht(self) -> float | None:
        """Average handle time (talk + hold + wrap-up), seconds."""
        return _ratio(self.handle_seconds, self.handled)

    @property
    def average_talk(self) -> float | None:
        return _ratio(self.talk_seconds, self.handled)

    @property
    def average_hold(self) -> float | None:
        return _ratio(self.hold_seconds, self.handled)

    @property
    def average_wrapup(self) -> float | None:
        return _ratio(self.wrapup_seconds, self.handled)

    @property
    def transfer_rate(self) -> float | None:
        return _ratio(self.transferred, self.answered)


_KINDS: dict[str, type[int] | type[float]] = {"int": int, "float": float}
_FIELDS: tuple[tuple[str, type[int] | type[float]], ...] = tuple(
    (item.name, _KINDS[str(item.type)]) for item in dataclasses.fields(Figures)
)
_LONGEST = [name for name, _kind in _FIELDS].index("longest_wait_seconds")


class Sums:
    """Figures being added up, as a plain list (cheap when thousands of rows are added)."""

    __slots__ = ("values",)

    def __init__(self, values: list[float] | None = None) -> None:
        self.values: list[float] = values if values is not None else [0.0] * len(_FIELDS)

    @classmethod
    def of(cls, figures: Figures) -> Sums:
        return cls([getattr(figures, name) for name, _kind in _FIELDS])

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Sums:
        return cls([row[name] or 0 for name, _kind in _FIELDS])

    def add(self, other: Sums) -> Sums:
        mine, theirs = self.values, other.values
        for i, value in enumerate(theirs):
            mine[i] = max(mine[i], value) if i == _LONGEST else mine[i] + value
        return self


def occupancy(
    handle_seconds: float, logged_in_seconds: float, paused_seconds: float
) -> float | None:
    """The share of an agent's available time (logged in, not paused) spent handling calls."""
    available = logged_in_seconds - paused_seconds
    return handle_seconds / available if available > 0 else None


def add_up(figures: Iterable[Figures]) -> Figures:
    total = Sums()
    for item in figures:
        total.add(Sums.of(item))
    return Figures.from_sums(total)


# --- filters and the base statement ---------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Filters:
    """What a report is narrowed to; None is everything. ``hotline`` is the dialed number."""

    queue: str | None = None
    agent_id: int | None = None
    tier: str | None = None
    hotline: str | None = None
    disposition: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filters as conditions over interactions alone (a tier is a set of customer ids)."""
        wanted: list[ColumnElement[bool]] = []
        if self.queue is not None:
            wanted.append(Interaction.queue == self.queue)
        if self.agent_id is not None:
            wanted.append(Interaction.agent_id == self.agent_id)
        if self.tier is not None:
            tier_ids = select(Customer.id).where(Customer.tier == self.tier)
            wanted.append(Interaction.customer_id.in_(tier_ids))
        if self.hotline is not None:
            wanted.append(Interaction.dialed_number == self.hotline)
        if self.disposition is not None:
            wanted.append(Interaction.disposition == self.disposition)
        return wanted


NO_FILTERS = Filters()


def offered_calls(
    columns: Sequence[Expression],
    since: dt.datetime,
    until: dt.datetime,
    filters: Filters = NO_FILTERS,
) -> Select[Any]:
    """SELECT ``columns`` FROM the offered calls of the period that pass the filters, joined
    to their queue (for the service level threshold)."""
    statement = (
        select(*columns).select_from(Interaction).outerjoin(Queue, Queue.name == Interaction.queue)
    )
    return statement.where(offered(), in_period(since, until), *filters.conditions())


# --- time buckets and durations, per database ------------------------------------------------


def hour_bucket(dialect: str) -> ColumnElement[Any]:
    """The UTC hour a call started in (PostgreSQL: a naive timestamp; SQLite: text).
    Reports group by it and roll hours up into local hours, days and weeks in Python:
    every UTC hour is one local hour in a time zone whose offset is whole hours."""
    if dialect == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", Interaction.started_at))
    return func.strftime("%Y-%m-%d %H:00:00", Interaction.started_at)


def bucket_time(value: object) -> dt.datetime:
    """A value of ``hour_bucket`` as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        moment = dt.datetime.fromisoformat(value)
    else:
        raise TypeError(f"not an hour bucket: {value!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def seconds_between(dialect: str, start: Expression, end: Expression) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    return cast((func.julianday(end) - func.julianday(start)) * 86400.0, Float)


async def dialect_of(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


# --- per queue: what the wallboard asks for "today so far" -----------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class QueueFigures:
    queue: str
    service_level_seconds: int
    figures: Figures


async def queue_figures(
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    queue: str | None = None,
    filters: Filters = NO_FILTERS,
) -> list[QueueFigures]:
    """The figures of every queue that was offered calls in ``[since, until)``, by queue
    name; only ``queue``'s if given. For "today so far": ``since`` = local midnight, ``until``
    = now."""
    if queue is not None:
        filters = dataclasses.replace(filters, queue=queue)
    threshold = service_level_threshold().label("threshold")
    statement = offered_calls(
        [Interaction.queue, threshold, *figure_columns()], since, until, filters
    ).group_by(Interaction.queue, threshold)
    rows = (await session.execute(statement)).mappings()
    result = [
        QueueFigures(str(row["queue"]), int(row["threshold"]), Figures.from_row(row))
        for row in rows
    ]
    return sorted(result, key=lambda item: item.queue)


# --- callers: first-contact resolution and repeat callers ------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CallerFigures:
    answered_identified: int = 0
    """Answered calls of identified callers: FCR's denominator."""
    resolved_first_contact: int = 0
    callers: int = 0
    """Identified callers with an offered call in the period."""
    repeat_callers: int = 0
    repeat_caller_calls: int = 0
    """Offered calls made by repeat callers."""

    @property
    def fcr(self) -> float | None:
        return _ratio(self.resolved_first_contact, self.answered_identified)

    @property
    def repeat_rate(self) -> float | None:
        return _ratio(self.repeat_callers, self.callers)


def caller_partition() -> tuple[Expression, ColumnElement[Any]]:
    """Who called, as two columns that sort fast: the customer id, else (no customer) the
    E.164 number. Both NULL: a withheld or unreadable number, nobody in particular."""
    return (
        Interaction.customer_id,
        case((Interaction.customer_id.is_(None), Interaction.caller_e164), else_=null()),
    )


def identified() -> ColumnElement[bool]:
    return or_(Interaction.customer_id.is_not(None), Interaction.caller_e164.is_not(None))


async def fcr_counts(
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    filters: Filters = NO_FILTERS,
    fcr_days: int = FCR_DAYS,
) -> tuple[int, int]:
    """(answered calls of identified callers, those resolved at first contact). The next
    call may be any inbound call of the caller, to any queue, also after ``until``."""
    dialect = await dialect_of(session)
    # one pass over the period and the days after it: each call with the caller's next call,
    # and whether it is one of those counted (answered, offered, in the period, filtered)
    counted = and_(answered(), offered(), in_period(since, until), *filters.conditions())
    calls = select(
        case((counted, 1), else_=0).label("counted"),
        Interaction.started_at.label("started_at"),
        func.lead(Interaction.started_at)
        .over(partition_by=caller_partition(), order_by=(Interaction.started_at, Interaction.id))
        .label("next_started_at"),
    ).select_from(Interaction)
    later = calls.where(
        is_call(),
        identified(),
        Interaction.started_at >= since,
        Interaction.started_at < until + dt.timedelta(days=fcr_days),
    ).subquery()
    gap = seconds_between(dialect, later.c.started_at, later.c.next_started_at)
    resolved = or_(later.c.next_started_at.is_(None), gap > fcr_days * 86400.0)
    statement = select(func.count(), _count(resolved)).where(later.c.counted == 1)
    answered_identified, resolved_count = (await session.execute(statement)).one()
    return int(answered_identified or 0), int(resolved_count or 0)


def per_caller(
    since: dt.datetime, until: dt.datetime, filters: Filters = NO_FILTERS
) -> Select[Any]:
    """One row per caller (``customer_id``, ``number``; both NULL: withheld callers
    together) with its offered ``calls`` and customer ``tier`` (NULL: not a customer).
    The calls are counted first and the tier looked up per caller, not per call."""
    customer_id, number = caller_partition()
    counted = (
        offered_calls(
            [customer_id.label("customer_id"), number.label("number"), func.count().label("calls")],
            since,
            until,
            filters,
        )
        .group_by(customer_id, number)
        .subquery()
    )
    return select(
        counted.c.customer_id,
        counted.c.number,
        tier_of(counted.c.customer_id).label("tier"),
        counted.c.calls,
    )


def tier_of(customer_id: Expression) -> ColumnElement[str | None]:
    """A customer's tier by id, without joining every customer: the ids of each tier but
    the first (the default, most customers) are looked up as a set (PostgreSQL hashes the
    few VIPs once); NULL for no customer."""
    whens: list[tuple[ColumnElement[bool], Any]] = [(customer_id.is_(None), null())]
    for tier in TIER_VALUES[1:]:
        ids = select(Customer.id).where(Customer.tier == tier)
        whens.append((customer_id.in_(ids), literal(tier)))
    return case(*whens, else_=literal(TIER_VALUES[0]))


async def repeat_counts(
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    filters: Filters = NO_FILTERS,
) -> tuple[int, int, int]:
    """(identified callers, repeat callers, offered calls of repeat callers)."""
    callers = per_caller(since, until, filters).subquery()
    repeat = callers.c.calls >= REPEAT_CALLS
    statement = (
        select(
            func.count(),
            _count(repeat),
            func.coalesce(func.sum(case((repeat, callers.c.calls), else_=0)), 0),
        )
        .select_from(callers)
        .where(or_(callers.c.customer_id.is_not(None), callers.c.number.is_not(None)))
    )
    found, repeaters, calls = (await session.execute(statement)).one()
    return int(found or 0), int(repeaters or 0), int(calls or 0)


async def caller_figures(
    session: AsyncSession,
    since: dt.datetime,
    until: dt.datetime,
    filters: Filters = NO_FILTERS,
    fcr_days: int = FCR_DAYS,
) -> CallerFigures:
    """First-contact resolution and repeat callers of the period (see the module's text)."""
    answered_identified, resolved = await fcr_counts(session, since, until, filters, fcr_days)
    callers, repeaters, calls = await repeat_counts(session, since, until, filters)
    return CallerFigures(answered_identified, resolved, callers, repeaters, calls)


__all__ = [
    "DEFAULT_SERVICE_LEVEL_SECONDS",
    "FCR_DAYS",
    "NO_FILTERS",
    "SHORT_ABANDON_SECONDS",
    "CallerFigures",
    "Figures",
    "Filters",
    "QueueFigures",
    "add_up",
    "caller_figures",
    "queue_figures",
]
