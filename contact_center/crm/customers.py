"""The customer card of the screen pop, and the desktop's customer search.

Search takes what an agent types: a phone number in any usual form (read as E.164 with the
settings' default region, then found by the number index), a part of a number (its digits,
at least ``PARTIAL_DIGITS``), or a part of a name or company, case-insensitive in every
alphabet on SQLite and PostgreSQL alike (SQLite connections carry a Unicode ``lower``, see
``contact_center.storage.db``). A name or company search reads every customer: no index
serves a substring.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from contact_center.crm.checks import one_line
from contact_center.crm.history import customer_id_of
from contact_center.crm.views import CaseView, CustomerCard, CustomerMatch, PhoneView
from contact_center.errors import CustomerNotFound, SearchInvalid
from contact_center.routing.numbers import normalize
from contact_center.storage.db import SQLITE_LOWER
from contact_center.storage.models import Case, Customer, PhoneNumber, User

CARD_CASES = 10
"""Open cases listed on a card (the most recent); the card counts them all."""
SEARCH_TEXT_MAX = 100
SEARCH_LIMIT_MAX = 100
PARTIAL_DIGITS = 4
_NUMBER_LIKE = re.compile(r"[(+]{0,2}[0-9][0-9 ()./-]*", re.ASCII)

_manager = aliased(User)
_open_cases = (
    select(func.count(Case.id))
    .where(Case.customer_id == Customer.id, Case.status == "open")
    .correlate(Customer)
    .scalar_subquery()
)
CARD = select(
    Customer.id,
    Customer.name,
    Customer.company,
    Customer.tier,
    Customer.language,
    Customer.account_manager_id,
    _manager.display_name,
    Customer.tags,
    Customer.notes,
    Customer.overdue_balance,
    _open_cases,
).outerjoin(_manager, _manager.id == Customer.account_manager_id)


def _phones(customer_ids: list[int]) -> Any:
    return (
        select(PhoneNumber.customer_id, PhoneNumber.e164, PhoneNumber.label)
        .where(PhoneNumber.customer_id.in_(customer_ids))
        .order_by(PhoneNumber.customer_id, PhoneNumber.id)
    )


async def customer_card(session: AsyncSession, customer_id: int) -> CustomerCard:
    """The card: the customer with their manager and open-case count (one query), their
    numbers (one), and the open cases' subjects (one, only when there are some)."""
    customer_id = customer_id_of(customer_id)
    row = (await session.execute(CARD.where(Customer.id == customer_id))).first()
    if row is None:
        raise CustomerNotFound(customer_id)
    phones = [row[1:] for row in await session.execute(_phones([customer_id]))]
    open_count = int(row[10] or 0)
    cases = list(await session.execute(open_cases(customer_id))) if open_count else []
    return card_of(row, phones, cases)


def open_cases(customer_id: int) -> Any:
    """The card's open cases, newest first, `CARD_CASES` at most."""
    return (
        select(Case.id, Case.subject, Case.opened_at)
        .where(Case.customer_id == customer_id, Case.status == "open")
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(CARD_CASES)
    )


def card_of(row: Any, phones: Iterable[Any], cases: Iterable[Any]) -> CustomerCard:
    """The card from a `CARD` row, its numbers' (e164, label) rows and its open cases' rows
    (`open_cases`): shared by `customer_card` and the desk's one-trip SQLite loader."""
    return CustomerCard(
        id=row[0],
        name=row[1],
        company=row[2],
        tier=row[3],
        language=row[4],
        account_manager_id=row[5],
        account_manager_name=row[6],
        tags=tuple(str(tag) for tag in row[7] or ()),
        notes=row[8] or "",
        overdue_balance=row[9],
        open_case_count=int(row[10] or 0),
        open_cases=tuple(CaseView(*case) for case in cases),
        phone_numbers=tuple(PhoneView(e164, label) for e164, label in phones),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _folded(column: Any, dialect: str, ascii_only: bool) -> Any:
    """The column as the search compares it. SQLite's LIKE ignores case for ASCII letters
    by itself, so an ASCII search leaves the column alone (much faster: no Python call per
    row); anything else goes through the Unicode ``lower`` on both databases."""
    if dialect == "sqlite":
        return column if ascii_only else getattr(func, SQLITE_LOWER)(column)
    return func.lower(column)


def _text_search(text: str, dialect: str) -> tuple[ColumnElement[bool], Any]:
    folded = text.lower()
    ascii_only = folded.isascii()
    name = _folded(Customer.name, dialect, ascii_only)
    company = _folded(Customer.company, dialect, ascii_only)
    pattern = _escape_like(folded)
    where = or_(
        name.like(f"%{pattern}%", escape="\\"),
        company.like(f"%{pattern}%", escape="\\"),
    )
    rank = case(
        (name.like(f"{pattern}%", escape="\\"), 0),
        (name.like(f"%{pattern}%", escape="\\"), 1),
        else_=2,
    )
    return where, rank


async def _rows(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], limit: int
) -> Sequence[Any]:
    return (await session.execute(statement.limit(limit))).all()


async def find_customers(
    session: AsyncSession, text: str, limit: int = 20, *, region: str
) -> tuple[CustomerMatch, ...]:
    """Customers matching what the agent typed, at most ``limit``, with their numbers.

    A whole number finds its customers exactly; digits that make no number of a customer
    (at least ``PARTIAL_DIGITS`` of them) find the numbers that hold them; other text finds
    names (those starting with it first) and companies. ``region`` reads national numbers
    (the settings' ``default_region``)."""
    text = one_line(text, "search text", SEARCH_TEXT_MAX, SearchInvalid)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= SEARCH_LIMIT_MAX:
        raise SearchInvalid(f"limit must be from 1 to {SEARCH_LIMIT_MAX}")
    if not text:
        return ()
    dialect = (await session.connection()).dialect.name
    columns = (Customer.id, Customer.name, Customer.company, Customer.tier, Customer.language)
    digits = "".join(c for c in text if c.isdigit())
    found: Sequence[Any] = ()
    if _NUMBER_LIKE.fullmatch(text) and len(digits) >= 3:
        e164 = normalize(text, region)
        if e164 is not None:
            found = await _rows(
                session,
                select(*columns)
                .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
                .where(PhoneNumber.e164 == e164)
                .order_by(Customer.name, Customer.id),
                limit,
            )
        # a few digits may read as a whole (short) number nobody has: look for them inside
        if not found and len(digits) >= PARTIAL_DIGITS:
            holders = select(PhoneNumber.customer_id).where(PhoneNumber.e164.like(f"%{digits}%"))
            found = await _rows(
                session,
                select(*columns)
                .where(Customer.id.in_(holders))
                .order_by(Customer.name, Customer.id),
                limit,
            )
    else:
        where, rank = _text_search(text, dialect)
        found = await _rows(
            session, select(*columns).where(where).order_by(rank, Customer.name, Customer.id), limit
        )
    if not found:
        return ()
    numbers: defaultdict[int, list[PhoneView]] = defaultdict(list)
    for customer_id, e164, label in await session.execute(_phones([row[0] for row in found])):
        numbers[customer_id].append(PhoneView(e164, label))
    return tuple(
        CustomerMatch(
            id=row[0],
            name=row[1],
            company=row[2],
            tier=row[3],
            language=row[4],
            phone_numbers=tuple(numbers[row[0]]),
        )
        for row in found
    )
