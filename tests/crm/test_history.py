"""Contact history: calls and hand-logged contacts in one list, newest first, in keyset
pages, with the open tasks; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from contact_center.crm import (
    HistoryCursor,
    contact_history,
    create_task,
    log_contact,
)
from contact_center.errors import CustomerNotFound, SearchInvalid
from tests.crm.conftest import NOW, Database, Seed, StatementCounter, call

T0 = NOW - dt.timedelta(days=10)


async def fill(database: Database, seed: Seed) -> list[int]:
    """Seven interactions of Żaneta (two at the very same instant) and one of John Smith.

    Returns Żaneta's ids in the order the history must show them (computed by hand:
    newest started_at first, and on a tie the higher id first)."""
    async with database.sessions() as session, session.begin():
        first = call(
            seed.zaneta,
            T0,
            "c-1",
            agent_id=seed.anna,
            answered_at=T0 + dt.timedelta(seconds=12),
            ended_at=T0 + dt.timedelta(seconds=190),
            wait_seconds=12.0,
            ring_seconds=4.5,
            talk_seconds=178.0,
            hold_seconds=20.0,
            wrapup_seconds=30.0,
            transfers=1,
            route_rule="key-account",
            route_reason="Key account of Anna Nowak",
            disposition="resolved",
            notes="Wanted a new invoice",
        )
        abandoned = call(
            seed.zaneta,
            T0 + dt.timedelta(days=1),
            "c-2",
            outcome="abandoned",
            wait_seconds=40.0,
            hangup_by="caller",
        )
        tie_a = call(seed.zaneta, T0 + dt.timedelta(days=2), "c-3", agent_id=seed.olena)
        tie_b = call(seed.zaneta, T0 + dt.timedelta(days=2), "c-4", agent_id=seed.anna)
        partial = call(
            seed.zaneta, T0 + dt.timedelta(days=4), "c-5", outcome="answered", complete=False
        )
        other = call(seed.acme, T0 + dt.timedelta(days=3), "c-6", agent_id=seed.anna)
        session.add_all([first, abandoned, tie_a, tie_b, partial, other])
        await session.flush()
        email = await log_contact(
            session,
            customer_id=seed.zaneta,
            channel="email",
            subject="Offer for 2027",
            notes="Sent the price list",
            at=T0 + dt.timedelta(days=3),
            user_id=seed.olena,
            direction="outbound",
            now=NOW,
        )
        note = await log_contact(
            session,
            customer_id=seed.zaneta,
            channel="note",
            subject="",
            notes="Call her back after the holidays",
            at=T0 + dt.timedelta(days=5),
            user_id=seed.anna,
            now=NOW,
        )
        ids = [first.id, abandoned.id, tie_a.id, tie_b.id, partial.id]
    # newest first: note (day 5), partial (day 4), email (day 3), the tie on day 2 (higher
    # id first), abandoned (day 1), first (day 0)
    return [note.id, ids[4], email.id, max(ids[2], ids[3]), min(ids[2], ids[3]), ids[1], ids[0]]


async def test_calls_and_contacts_newest_first_with_their_figures(
    database: Database, seed: Seed
) -> None:
    expected = await fill(database, seed)
    async with database.sessions() as session:
        page = await contact_history(session, seed.zaneta)
    assert [e.id for e in page.entries] == expected
    assert page.next_before is None
    assert [e.channel for e in page.entries] == [
        "note",
        "voice",
        "email",
        "voice",
        "voice",
        "voice",
        "voice",
    ]
    note, partial, email, *_, abandoned, first = page.entries
    assert (note.by_hand, note.direction, note.subject, note.notes) == (
        True,
        "internal",
        "",
        "Call her back after the holidays",
    )
    assert (note.agent_name, note.outcome, note.queue) == ("Anna Nowak", "logged", None)
    assert (email.direction, email.agent_name, email.subject) == (
        "outbound",
        "Олена Коваленко",
        "Offer for 2027",
    )
    assert partial.complete is False
    assert (abandoned.outcome, abandoned.agent_name, abandoned.wait_seconds) == (
        "abandoned",
        None,
        40.0,
    )
    assert first.started_at == T0
    assert first.ended_at == T0 + dt.timedelta(seconds=190)
    assert (first.agent_id, first.agent_name, first.queue) == (
        seed.anna,
        "Anna Nowak",
        "support-pl",
    )
    assert (first.route_rule, first.route_reason) == ("key-account", "Key account of Anna Nowak")
    assert (first.disposition, first.notes, first.by_hand) == (
        "resolved",
        "Wanted a new invoice",
        False,
    )
    assert (
        first.wait_seconds,
        first.ring_seconds,
        first.talk_seconds,
        first.hold_seconds,
        first.wrapup_seconds,
        first.transfers,
        first.complete,
    ) == (12.0, 4.5, 178.0, 20.0, 30.0, 1, True)
    # John Smith's call is his alone
    async with database.sessions() as session:
        theirs = await contact_history(session, seed.acme)
    assert [e.started_at for e in theirs.entries] == [T0 + dt.timedelta(days=3)]


async def test_pages_by_keyset_cover_everything_once(database: Database, seed: Seed) -> None:
    expected = await fill(database, seed)
    seen: list[int] = []
    pages = 0
    before: HistoryCursor | None = None
    async with database.sessions() as session:
        while True:
            page = await contact_history(session, seed.zaneta, limit=3, before=before)
            pages += 1
            seen.extend(e.id for e in page.entries)
            if page.next_before is None:
                break
            # the cursor travels through a URL as text
            before = HistoryCursor.parse(page.next_before.token())
            assert before == page.entries[-1].cursor
    assert seen == expected
    assert pages == 3  # 3 + 3 + 1
    # a page that ends exactly at the last entry says so: no empty page after it
    async with database.sessions() as session:
        whole = await contact_history(session, seed.zaneta, limit=7)
        beyond = await contact_history(session, seed.zaneta, before=whole.entries[-1].cursor)
    assert whole.next_before is None
    assert beyond.entries == ()


async def test_a_contact_logged_meanwhile_does_not_shift_the_next_page(
    database: Database, seed: Seed
) -> None:
    expected = await fill(database, seed)
    async with database.sessions() as session:
        first = await contact_history(session, seed.zaneta, limit=3)
    async with database.sessions() as session, session.begin():
        await log_contact(
            session,
            customer_id=seed.zaneta,
            channel="meeting",
            subject="Visit",
            notes="",
            at=NOW,
            user_id=seed.anna,
            now=NOW,
        )
    async with database.sessions() as session:
        second = await contact_history(session, seed.zaneta, limit=3, before=first.next_before)
    assert [e.id for e in second.entries] == expected[3:6]


async def test_open_tasks_come_with_the_first_page_only(database: Database, seed: Seed) -> None:
    await fill(database, seed)
    async with database.sessions() as session, session.begin():
        later = await create_task(
            session,
            kind="follow_up",
            title="Send the contract",
            due_at=NOW + dt.timedelta(days=2),
            region="PL",
            user_id=seed.anna,
            customer_id=seed.zaneta,
            assigned_to_id=seed.anna,
        )
        sooner = await create_task(
            session,
            kind="callback",
            title="Call back about the delivery",
            due_at=NOW + dt.timedelta(hours=2),
            region="PL",
            user_id=seed.anna,
            customer_id=seed.zaneta,
            queue="support-pl",
        )
        await create_task(
            session,
            kind="callback",
            title="Someone else's",
            due_at=NOW,
            region="PL",
            user_id=seed.anna,
            customer_id=seed.acme,
            assigned_to_id=seed.anna,
        )
    async with database.sessions() as session:
        first = await contact_history(session, seed.zaneta, limit=3)
        second = await contact_history(session, seed.zaneta, limit=3, before=first.next_before)
    assert [t.id for t in first.open_tasks] == [sooner.id, later.id]
    assert first.open_tasks[0].phone_number == "+48601234567"
    assert first.open_tasks[0].customer_name == "Żaneta Kowalska"
    assert first.open_tasks[1].assigned_to_name == "Anna Nowak"
    assert second.open_tasks == ()


async def test_one_query_a_page_two_with_the_tasks(database: Database, seed: Seed) -> None:
    await fill(database, seed)
    async with database.sessions() as session:
        with StatementCounter(database.engine) as first_page:
            first = await contact_history(session, seed.zaneta, limit=3)
        with StatementCounter(database.engine) as next_page:
            await contact_history(session, seed.zaneta, limit=3, before=first.next_before)
        with StatementCounter(database.engine) as empty:
            page = await contact_history(session, seed.olha)
    assert len(first_page.statements) == 2  # interactions with agents' names, open tasks
    assert len(next_page.statements) == 1
    assert len(empty.statements) == 3  # nothing found: does the customer exist?
    assert (page.entries, page.open_tasks, page.next_before) == ((), (), None)


async def test_unknown_customer_bad_limit_and_bad_cursor(database: Database, seed: Seed) -> None:
    async with database.sessions() as session:
        with pytest.raises(CustomerNotFound):
            await contact_history(session, seed.acme + 1000)
        with pytest.raises(CustomerNotFound):
            await contact_history(session, 2**40)
        with pytest.raises(SearchInvalid):
            await contact_history(session, "1")  # type: ignore[arg-type]
        for limit in (0, -1, 501, True):
            with pytest.raises(SearchInvalid):
                await contact_history(session, seed.zaneta, limit=limit)
    for token in (
        "",
        "abc",
        "1.2.3",
        "1e3.4",
        "١٢.٣",
        "1.99999999999",
        "9" * 19 + ".1",
        "9" * 18 + ".1",
        " 1.2",
    ):
        with pytest.raises(SearchInvalid):
            HistoryCursor.parse(token)
    cursor = HistoryCursor(dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), 42)
    assert cursor.token() == "1767323045678901.42"
    assert HistoryCursor.parse("1767323045678901.42") == cursor
