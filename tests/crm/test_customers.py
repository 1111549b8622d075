"""The screen pop's customer card and the desktop's customer search, on SQLite and
PostgreSQL: names in any alphabet and any case, numbers in any usual form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contact_center.crm import CaseView, PhoneView, customer_card, find_customers
from contact_center.errors import CustomerNotFound, SearchInvalid
from contact_center.storage.models import Customer, PhoneNumber
from tests.crm.conftest import NOW, Database, Seed, StatementCounter


async def test_the_card_shows_what_the_pop_needs(database: Database, seed: Seed) -> None:
    async with database.sessions() as session:
        with StatementCounter(database.engine) as counted:
            card = await customer_card(session, seed.zaneta)
        with StatementCounter(database.engine) as plain:
            smith = await customer_card(session, seed.acme)
    assert (card.id, card.name, card.company, card.tier, card.language) == (
        seed.zaneta,
        "Żaneta Kowalska",
        None,
        "vip",
        "pl",
    )
    assert (card.account_manager_id, card.account_manager_name) == (seed.anna, "Anna Nowak")
    assert card.tags == ("vip", "wholesale")
    assert card.notes == "Prefers mornings"
    assert card.overdue_balance == Decimal("1234.50")
    assert card.open_case_count == 2
    # the open ones, the most recently opened first; the closed one is not there
    assert [(c.subject, c.opened_at) for c in card.open_cases] == [
        ("Broken delivery", NOW.replace(day=23)),
        ("Invoice 7/2026", NOW.replace(day=21)),
    ]
    assert all(isinstance(c, CaseView) for c in card.open_cases)
    assert card.phone_numbers == (
        PhoneView("+48601234567", "mobile"),
        PhoneView("+48221234567", "home"),
    )
    assert len(counted.statements) == 3  # customer with manager and count, numbers, cases
    assert (smith.company, smith.account_manager_name, smith.open_case_count) == (
        "ACME Widgets",
        None,
        0,
    )
    assert (smith.open_cases, smith.tags, smith.overdue_balance) == ((), (), Decimal("0"))
    assert len(plain.statements) == 2  # no open case: no cases query


async def test_the_card_of_nobody(database: Database, seed: Seed) -> None:
    async with database.sessions() as session:
        for missing in (seed.acme + 1, 0, -5, 2**31):
            with pytest.raises(CustomerNotFound):
                await customer_card(session, missing)
        with pytest.raises(SearchInvalid):
            await customer_card(session, None)  # type: ignore[arg-type]


async def more_customers(database: Database, seed: Seed) -> dict[str, int]:
    async with database.sessions() as session, session.begin():
        rows = {
            "kowalski": Customer(name="Jan Kowalski", company="Kowalski i Synowie", language="pl"),
            "olena": Customer(name="ОЛЕНА Ткаченко", company="ТОВ Зоря", language="uk"),  # noqa: RUF001
            "percent": Customer(name="100% Pure_Water", company=None, language="en"),
            "nowak": Customer(name="Nowak Trading", company="ACME Widgets", language="en"),
            "nowakowski": Customer(name="Adam Nowakowski", company=None, language="pl"),
        }
        session.add_all(rows.values())
        await session.flush()
        # a switchboard shared by two customers
        session.add_all(
            [
                PhoneNumber(customer_id=rows["kowalski"].id, e164="+48221234567", label="office"),
                PhoneNumber(customer_id=rows["olena"].id, e164="+380441234567", label="office"),
                PhoneNumber(customer_id=rows["nowakowski"].id, e164="+447554648503"),
            ]
        )
        return {name: row.id for name, row in rows.items()} | {
            "zaneta": seed.zaneta,
            "olha": seed.olha,
            "smith": seed.acme,
        }


async def search(database: Database, text: str, limit: int = 20, region: str = "PL") -> list[int]:
    async with database.sessions() as session:
        return [m.id for m in await find_customers(session, text, limit, region=region)]


async def test_search_by_name_and_company_in_any_case_and_alphabet(
    database: Database, seed: Seed
) -> None:
    ids = await more_customers(database, seed)
    # Polish and Ukrainian letters fold on SQLite as on PostgreSQL
    assert await search(database, "żANETA") == [ids["zaneta"]]
    assert await search(database, "ŻANETA KOWAL") == [ids["zaneta"]]
    assert await search(database, "олена") == [ids["olena"]]
    assert await search(database, "зоря") == [ids["olena"]]  # by company
    assert await search(database, "шевченко") == [ids["olha"]]
    # names holding it, by name (code point order: J before Ż); the company of Jan Kowalski
    # matches too, but he is listed once
    assert await search(database, "KOWAL") == [ids["kowalski"], ids["zaneta"]]
    # a name starting with it comes before a name merely holding it, whatever the alphabet
    assert await search(database, "nowak") == [ids["nowak"], ids["nowakowski"]]
    # companies only: by name
    assert await search(database, "acme") == [ids["smith"], ids["nowak"]]
    assert await search(database, "Smith") == [ids["smith"]]
    # LIKE wildcards are letters here
    assert await search(database, "%") == [ids["percent"]]
    assert await search(database, "_") == [ids["percent"]]
    assert await search(database, "o%w") == []
    assert await search(database, "a", limit=2) == (await search(database, "a"))[:2]
    assert await search(database, "   ") == []
    assert await search(database, "nobody like this") == []


async def test_search_by_number_in_any_usual_form(database: Database, seed: Seed) -> None:
    ids = await more_customers(database, seed)
    async with database.sessions() as session:
        [found] = await find_customers(session, "601 234 567", region="PL")
    assert (found.id, found.name, found.phone_numbers) == (
        seed.zaneta,
        "Żaneta Kowalska",
        (PhoneView("+48601234567", "mobile"), PhoneView("+48221234567", "home")),
    )
    for typed in ("+48 601-234-567", "0048601234567", "(+48) 601.234.567"):
        assert await search(database, typed) == [seed.zaneta], typed
    # a shared switchboard: both its customers, by name
    assert await search(database, "22 123 45 67") == [ids["kowalski"], ids["zaneta"]]
    # the region reads national numbers: the same digits are Ukrainian from UA
    assert await search(database, "044 123 4567", region="UA") == [ids["olena"]]
    assert await search(database, "07911 123456", region="GB") == [seed.acme]
    # digits that make no whole number find the numbers holding them
    assert await search(database, "1234567") == [ids["kowalski"], seed.zaneta, ids["olena"]]
    assert await search(database, "911 12") == [seed.acme]
    # "648503" reads as a whole (short) Polish number, which nobody has: found inside one
    assert await search(database, "648503") == [ids["nowakowski"]]
    assert await search(database, "123") == []  # too few digits to mean anything
    assert await search(database, "48999999999") == []


async def test_bad_searches(database: Database, seed: Seed) -> None:
    async with database.sessions() as session:
        for text, limit in (("x" * 101, 20), ("a\x00", 20), ("a\nb", 20), ("a", 0), ("a", 101)):
            with pytest.raises(SearchInvalid):
                await find_customers(session, text, limit, region="PL")
