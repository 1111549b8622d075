"""Contacts logged by hand: stored as typed (hostile text is data), refused when invalid,
nothing written on a refusal; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, text

from contact_center.crm import contact_history, log_contact
from contact_center.errors import ContactInvalid, CrmError, CustomerNotFound
from contact_center.storage.models import Interaction
from tests.crm.conftest import NOW, Database, Seed

HOSTILE_SUBJECTS = (
    "'); DROP TABLE interactions; --",
    '<img src=x onerror=alert(1)> "><script>alert(1)</script>',
    "Zażółć Gęślą Jaźń / Олена Коваленко / 🚀 \\ % _ ' \"",
    "{{ 7*7 }} ${7*7} %(name)s {0}",
)
HOSTILE_NOTES = (
    "Robert'); DELETE FROM customers WHERE ('1'='1\nline two\ttabbed\r\nline three",
    "<script>fetch('/logout')</script>" * 100,
    "\u202eRTL override and a zero width\u200bspace",
)


async def log(database: Database, seed: Seed, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "customer_id": seed.zaneta,
        "channel": "email",
        "subject": "Offer",
        "notes": "Sent",
        "at": NOW - dt.timedelta(hours=1),
        "user_id": seed.anna,
        "now": NOW,
    } | changes
    async with database.sessions() as session, session.begin():
        return await log_contact(session, **values)


async def interactions(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Interaction)) or 0)


async def test_a_contact_is_an_interaction_without_a_call(database: Database, seed: Seed) -> None:
    at = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    entry = await log(
        database,
        seed,
        channel="meeting",
        subject="  Quarterly review  ",
        notes="\nAgreed on prices\n",
        at=at,
        outcome="resolved",
        disposition="sale",
        user_id=seed.olena,
    )
    async with database.sessions() as session:
        row = await session.get_one(Interaction, entry.id)
    assert (row.node, row.linkedid, row.uniqueid) == (None, None, None)
    assert (row.channel, row.direction, row.outcome, row.disposition) == (
        "meeting",
        "inbound",
        "resolved",
        "sale",
    )
    assert (row.subject, row.notes) == ("Quarterly review", "Agreed on prices")
    assert row.started_at == dt.datetime(2026, 11, 24, 8, 30, tzinfo=dt.UTC)
    assert (row.agent_id, row.created_by_id, row.customer_id) == (
        seed.olena,
        seed.olena,
        seed.zaneta,
    )
    assert (row.complete, row.transfers, row.queue) == (True, 0, None)
    assert entry.started_at == row.started_at
    assert entry.agent_name == "Олена Коваленко"


async def test_several_contacts_by_hand_do_not_collide(database: Database, seed: Seed) -> None:
    # (node, linkedid) is unique, but NULLs never collide: any number of hand contacts
    for n in range(3):
        await log(database, seed, subject=f"Mail {n}")
    assert await interactions(database) == 3


async def test_hostile_subject_and_notes_are_stored_as_data(database: Database, seed: Seed) -> None:
    written = []
    for subject in HOSTILE_SUBJECTS:
        for notes in HOSTILE_NOTES:
            entry = await log(database, seed, subject=subject, notes=notes)
            written.append((entry.id, subject.strip(), notes.strip()))
    async with database.sessions() as session:
        page = await contact_history(session, seed.zaneta, limit=100)
        customers = await session.scalar(text("SELECT count(*) FROM customers"))
    stored = {e.id: (e.subject, e.notes) for e in page.entries}
    assert stored == {ident: (subject, notes) for ident, subject, notes in written}
    assert customers == 3
    assert await interactions(database) == len(HOSTILE_SUBJECTS) * len(HOSTILE_NOTES)


INVALID: tuple[tuple[str, dict[str, Any]], ...] = (
    ("voice is the bridge's", {"channel": "voice"}),
    ("unknown channel", {"channel": "fax"}),
    ("channel not text", {"channel": None}),
    ("subject too long", {"subject": "x" * 201}),
    ("subject on two lines", {"subject": "one\ntwo"}),
    ("subject with a NUL", {"subject": "a\x00b"}),
    ("subject with an escape", {"subject": "\x1b[31mred"}),
    ("subject not text", {"subject": 42}),
    ("notes too long", {"notes": "x" * 20_001}),
    ("notes with a NUL", {"notes": "a\x00b"}),
    ("notes with a lone surrogate", {"notes": "a\ud800b"}),
    ("nothing said", {"subject": "   ", "notes": "\n\t"}),
    ("naive time", {"at": dt.datetime(2026, 11, 24, 8, 0)}),
    ("time not a datetime", {"at": "2026-11-24T08:00:00Z"}),
    ("in the future", {"at": NOW + dt.timedelta(minutes=6)}),
    ("unknown outcome", {"outcome": "answered"}),
    ("disposition too long", {"disposition": "d" * 65}),
    ("disposition on two lines", {"disposition": "a\nb"}),
    ("unknown direction", {"direction": "sideways"}),
    ("no such user", {"user_id": 999_999}),
    ("user id zero", {"user_id": 0}),
    ("user id a bool", {"user_id": True}),
    ("customer id too large", {"customer_id": 2**31}),
)


async def test_invalid_contacts_are_refused_and_nothing_is_written(
    database: Database, seed: Seed
) -> None:
    accepted = []
    for why, changes in INVALID:
        try:
            await log(database, seed, **changes)
        except ContactInvalid:
            continue
        accepted.append(why)
    assert accepted == []
    assert issubclass(ContactInvalid, CrmError)
    assert issubclass(ContactInvalid, ValueError)
    assert await interactions(database) == 0


async def test_inactive_user_and_unknown_customer(database: Database, seed: Seed) -> None:
    with pytest.raises(ContactInvalid, match="no active user"):
        await log(database, seed, user_id=seed.retired)
    with pytest.raises(CustomerNotFound) as raised:
        await log(database, seed, customer_id=seed.acme + 100)
    assert raised.value.customer_id == seed.acme + 100
    assert await interactions(database) == 0


async def test_edges_that_are_accepted(database: Database, seed: Seed) -> None:
    # five minutes ahead of the clock is skew, not the future; 200 characters fit
    at_skew = await log(database, seed, at=NOW + dt.timedelta(minutes=5), subject="s" * 200)
    # a blank disposition is none; notes alone say enough
    blank = await log(database, seed, subject="", disposition="  ", notes="only notes")
    assert (at_skew.started_at, len(at_skew.subject)) == (NOW + dt.timedelta(minutes=5), 200)
    assert (blank.disposition, blank.subject) == (None, "")
    assert await interactions(database) == 2
