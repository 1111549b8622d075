"""The routing pages (rules, opening hours, import and export, simulator) through a real
HTTP client, logged in as real users, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from contact_center.routing.rulebook import load_yaml
from contact_center.routing.store import default_document, load_document, save_document
from contact_center.storage.models import Customer, PhoneNumber, Queue, RoutingRule, User
from contact_center.web.keys import DATABASE, ROUTER
from tests.web.auth_helpers import Client, app_client, log_in_as

TUESDAY = "2026-11-24T10:00"  # in the center's time zone (Europe/Warsaw)
SUNDAY = "2026-11-29T12:00"
XSS = "<script>alert(1)</script>"

PAGES = [
    "/routing/rules",
    "/routing/rules/new",
    "/routing/rules/vip/edit",
    "/routing/queues",
    "/routing/rules.yaml",
    "/routing/rules/import",
    "/routing/simulate?number=601000002",
]


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    client = await app_client(database_url)
    try:
        yield client
    finally:
        await client.close()


async def supervisor(client: Client) -> str:
    return await log_in_as(client, "mzielinska", "supervisor")


def database(client: Client) -> Any:
    assert client.app is not None
    return client.app[DATABASE]


async def stored_rules(client: Client) -> list[tuple[str, bool]]:
    async with database(client).sessions() as session:
        rows = await session.scalars(select(RoutingRule).order_by(RoutingRule.position))
        return [(rule.name, rule.enabled) for rule in rows]


async def stored_snapshot(client: Client) -> list[tuple[Any, ...]]:
    async with database(client).sessions() as session:
        rows = await session.scalars(select(RoutingRule).order_by(RoutingRule.position))
        rules = [(r.position, r.name, r.enabled, r.conditions, r.actions) for r in rows]
        queues = await session.scalars(select(Queue).order_by(Queue.name))
        return [
            *rules,
            *[(q.name, q.timezone, q.opening_hours, q.holidays, q.after_hours) for q in queues],
        ]


async def start_from_default(client: Client, token: str) -> None:
    response = await client.post(
        "/routing/rules/start-default", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303, await response.text()


async def add_customers(client: Client) -> None:
    """A VIP key account, two customers sharing a switchboard, one in debt, one hostile name."""
    async with database(client).sessions() as session, session.begin():
        manager = User(
            username="anowak", display_name="Anna Nowak", role="agent", interface="PJSIP/agent-1001"
        )
        session.add_all([manager, Queue(name="support-pl", display_name="Wsparcie PL")])
        await session.flush()
        customers = {
            "+48601000002": [
                Customer(
                    name="Jan Kowalski", tier="vip", language="pl", account_manager_id=manager.id
                )
            ],
            "+48601000009": [
                Customer(name="Firma Alfa", company="Alfa sp. z o.o.", language="pl"),
                Customer(name="Firma Beta", company="Beta S.A.", tier="vip", language="en"),
            ],
            "+48601000007": [
                Customer(name="Ewa Dłużna", language="pl", overdue_balance=Decimal("120.50"))
            ],
            "+48601000666": [Customer(name=XSS, language="en")],
        }
        for e164, owners in customers.items():
            for customer in owners:
                customer.tags, customer.notes = [], ""
                session.add(customer)
                await session.flush()
                session.add(PhoneNumber(customer_id=customer.id, e164=e164))


def rule_form(token: str, **fields: str | list[str]) -> list[tuple[str, str]]:
    values: dict[str, str | list[str]] = {
        "csrf_token": token,
        "name": "night",
        "description": "Nights go to the overflow team",
        "enabled": "on",
        "caller": ["known", "unknown"],
        "open_case": "any",
        "overdue": "no",
        "account_manager": "any",
        "days": ["mon", "tue"],
        "time_from": "20:00",
        "time_to": "24:00",
        "queue": "overflow",
        "priority": "5",
        "then_language": "customer",
        "reason": "Night call from {name}",
        **fields,
    }
    return [
        (key, item)
        for key, value in values.items()
        for item in (value if isinstance(value, list) else [value])
    ]


# --- who may see the pages ---------------------------------------------------------------------


async def test_agents_get_403_and_anonymous_users_go_to_login(client: Client) -> None:
    for path in PAGES:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login?next=%2Frouting%2F"), path
    token = await log_in_as(client, "anowak", "agent")
    assert "/routing/rules" not in await (await client.get("/")).text()  # no nav link
    for path in PAGES:
        assert (await client.get(path)).status == 403, path
    for path in ["/routing/rules/start-default", "/routing/rules/new", "/routing/queues"]:
        refused = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
        assert refused.status == 403, path
    assert await stored_rules(client) == []


async def test_supervisors_and_admins_see_the_pages(client: Client) -> None:
    await log_in_as(client, "root", "admin")
    assert 'href="/routing/rules"' in await (await client.get("/")).text()
    for path in PAGES:
        assert (await client.get(path)).status == 200, path


# --- the rules list ----------------------------------------------------------------------------


async def test_the_default_is_shown_until_stored(client: Client) -> None:
    token = await supervisor(client)
    page = await (await client.get("/routing/rules")).text()
    assert "Start from the default" in page
    assert "the default rulebook" in page
    assert "within 5 seconds" in page
    assert (
        "tier is vip and has a key-account manager → queue vip, priority 10, "
        "ring key-account manager first for 15 s"
    ) in html.unescape(page)
    assert await stored_rules(client) == []
    await start_from_default(client, token)
    default = await default_document()
    assert await stored_rules(client) == [(rule.name, True) for rule in default.rules]
    page = await (await client.get("/routing/rules")).text()
    assert "Start from the default" not in page
    assert "vip-key-account" in page


async def test_add_edit_move_disable_and_delete_a_rule(client: Client) -> None:
    token = await supervisor(client)
    await start_from_default(client, token)
    names = [name for name, _ in await stored_rules(client)]

    added = await client.post(
        "/routing/rules/new", data=rule_form(token, name="night / weekend"), allow_redirects=False
    )
    assert added.status == 303, await added.text()
    assert await stored_rules(client) == [*[(n, True) for n in names], ("night / weekend", True)]
    page = html.unescape(await (await client.get("/routing/rules")).text())
    assert (
        "caller is a known customer or unknown and has no overdue balance and "
        "on mon, tue from 20:00 to 24:00"
    ) in page
    assert "→ queue overflow, priority 5, in the customer's language" in page
    async with database(client).sessions() as session:
        row = (await session.scalars(select(RoutingRule).where(RoutingRule.position == 1))).one()
        me = (await session.scalars(select(User.id).where(User.username == "mzielinska"))).one()
    assert row.updated_by_id == me

    edit_url = "/routing/rules/night%20%2F%20weekend/edit"
    form = await (await client.get(edit_url)).text()
    assert 'value="Night call from {name}"' in form
    assert 'value="mon" checked' in form
    assert 'value="wed" checked' not in form
    edited = await client.post(
        edit_url, data=rule_form(token, name="night / weekend", priority="7"), allow_redirects=False
    )
    assert edited.status == 303
    async with database(client).sessions() as session:
        document = await load_document(session)
    assert document is not None
    assert document.rules[-1].then.priority == 7

    move = "/routing/rules/night%20%2F%20weekend/move"
    up = await client.post(move, data={"csrf_token": token, "direction": "up"})
    assert up.status == 200  # followed the redirect back to the list
    assert [n for n, _ in await stored_rules(client)][-2:] == ["night / weekend", names[-1]]
    await client.post(move, data={"csrf_token": token, "direction": "down"})
    assert [n for n, _ in await stored_rules(client)][-2:] == [names[-1], "night / weekend"]

    toggled = await client.post(
        "/routing/rules/night%20%2F%20weekend/toggle", data={"csrf_token": token}
    )
    assert "disabled" in await toggled.text()
    assert (await stored_rules(client))[-1] == ("night / weekend", False)

    await client.post("/routing/rules/night%20%2F%20weekend/delete", data={"csrf_token": token})
    assert await stored_rules(client) == [(n, True) for n in names]
    missing = await client.post("/routing/rules/nope/delete", data={"csrf_token": token})
    assert missing.status == 404


async def test_an_edit_applies_to_this_process_at_once(client: Client) -> None:
    token = await supervisor(client)
    await add_customers(client)
    url = f"/routing/simulate?number=601000002&at={TUESDAY}"
    assert "vip-key-account" in await (await client.get(url)).text()  # cached by the router
    await client.post(
        "/routing/rules/new",
        data=rule_form(
            token,
            name="everyone",
            caller=[],
            overdue="any",
            days=[],
            time_from="",
            time_to="",
            queue="everyone-q",
        ),
    )
    move = "/routing/rules/everyone/move"
    for _ in range(10):
        await client.post(move, data={"csrf_token": token, "direction": "up"})
    page = await (await client.get(url)).text()
    assert "everyone-q" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("priority", "1000", "expected a whole number from 0 to 100"),
        ("queue", "vip desk!", "a queue name is letters, digits"),
        ("reason", "{name.__class__}", "{name.__class__} is not one of"),
        ("time_from", "25:99", "is not a time as HH:MM"),
        ("name", "vip", "two rules have this name"),
    ],
)
async def test_an_invalid_rule_is_refused_with_the_input_kept(
    client: Client, field: str, value: str, message: str
) -> None:
    token = await supervisor(client)
    await start_from_default(client, token)
    before = await stored_snapshot(client)
    response = await client.post("/routing/rules/new", data=rule_form(token, **{field: value}))
    page = await response.text()
    assert response.status == 400
    assert html.escape(message) in page
    assert f'value="{html.escape(value)}"' in page  # what was typed is still there
    assert 'value="Nights go to the overflow team"' in page  # and so is the rest
    assert await stored_snapshot(client) == before


async def test_a_post_without_the_csrf_token_is_refused(client: Client) -> None:
    token = await supervisor(client)
    form = [(key, value) for key, value in rule_form(token) if key != "csrf_token"]
    response = await client.post("/routing/rules/new", data=form, allow_redirects=False)
    assert response.status == 403
    refused = await client.post("/routing/rules/start-default", allow_redirects=False)
    assert refused.status == 403
    assert await stored_rules(client) == []


# --- opening hours -----------------------------------------------------------------------------


def queue_form(token: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "queue": "support-pl",
        "timezone": "Europe/Kyiv",
        **{f"hours_{day}": "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")},
        "hours_sat": "09:00-12:00, 13:00-14:00",
        "holidays": "2026-12-25\n2026-12-26\n",
        "after_hours": "voicemail",
        **fields,
    }


async def test_queue_hours_are_saved_and_shown(client: Client) -> None:
    token = await supervisor(client)
    await add_customers(client)  # adds the support-pl queue row
    saved = await client.post("/routing/queues", data=queue_form(token), allow_redirects=False)
    assert saved.status == 303, await saved.text()
    async with database(client).sessions() as session:
        queue = (await session.scalars(select(Queue).where(Queue.name == "support-pl"))).one()
    assert queue.timezone == "Europe/Kyiv"
    assert queue.opening_hours["mon"] == "08:00-18:00"
    assert queue.opening_hours["sat"] == ["09:00-12:00", "13:00-14:00"]
    assert "sun" not in queue.opening_hours
    assert queue.holidays == ["2026-12-25", "2026-12-26"]
    assert queue.after_hours == "voicemail"
    page = await (await client.get("/routing/queues")).text()
    assert 'name="hours_sat" type="text" value="09:00-12:00, 13:00-14:00"' in page
    assert 'value="Europe/Kyiv"' in page
    assert '<option value="voicemail" selected>' in page
    assert len(await stored_rules(client)) > 0  # saved with the (default) rules


@pytest.mark.parametrize(
    ("fields", "message", "kept"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone", 'value="Mars/Olympus"'),
        ({"hours_tue": "18:00-08:00"}, "closes before it opens", 'value="18:00-08:00"'),
        ({"holidays": "25.12.2026"}, "is not a date", ">25.12.2026</textarea>"),
        (
            {f"hours_{d}": "" for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
            "at least one",
            'value="Europe/Kyiv"',
        ),
    ],
)
async def test_bad_queue_hours_are_refused(
    client: Client, fields: dict[str, str], message: str, kept: str
) -> None:
    token = await supervisor(client)
    await add_customers(client)
    before = await stored_snapshot(client)
    response = await client.post("/routing/queues", data=queue_form(token, **fields))
    page = await response.text()
    assert response.status == 400
    assert html.escape(message) in page
    assert kept in page  # what was typed is still there
    assert await stored_snapshot(client) == before


# --- import and export -------------------------------------------------------------------------


async def test_export_then_import_gives_the_same_rules(client: Client) -> None:
    token = await supervisor(client)
    await start_from_default(client, token)
    await client.post("/routing/rules/new", data=rule_form(token))
    exported = await client.get("/routing/rules.yaml")
    assert exported.status == 200
    assert exported.headers["Content-Type"] == "text/yaml; charset=utf-8"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="rules.yaml"'
    text = await exported.text()
    before = await stored_snapshot(client)

    await client.post("/routing/rules/vip/delete", data={"csrf_token": token})
    await client.post("/routing/rules/night/delete", data={"csrf_token": token})
    assert await stored_snapshot(client) != before

    upload = aiohttp.FormData()
    upload.add_field("csrf_token", token)
    upload.add_field("file", text.encode(), filename="rules.yaml", content_type="text/yaml")
    imported = await client.post("/routing/rules/import", data=upload, allow_redirects=False)
    assert imported.status == 303, await imported.text()
    assert await stored_snapshot(client) == before
    assert await (await client.get("/routing/rules.yaml")).text() == text

    pasted = await client.post(
        "/routing/rules/import",
        data={"csrf_token": token, "yaml": "rules:\n  - {name: only, then: {queue: main}}\n"},
        allow_redirects=False,
    )
    assert pasted.status == 303
    assert await stored_rules(client) == [("only", True)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("rules:\n  - {name: x, then: {queue: main, priority: 1000}}\n", "from 0 to 100"),
        ("queues: {main: {timezone: Mars/Olympus}}\nrules: []\n", "unknown time zone"),
        ("rules:\n  - {name: x, then: {queue: a}}\n  - {name: x, then: {queue: b}}\n", "two rules"),
    ],
)
async def test_a_broken_import_changes_nothing(client: Client, text: str, message: str) -> None:
    token = await supervisor(client)
    await start_from_default(client, token)
    before = await stored_snapshot(client)
    upload = aiohttp.FormData()
    upload.add_field("csrf_token", token)
    upload.add_field("file", text.encode(), filename="rules.yaml", content_type="text/yaml")
    response = await client.post("/routing/rules/import", data=upload)
    assert response.status == 400
    assert html.escape(message) in await response.text()
    pasted = await client.post("/routing/rules/import", data={"csrf_token": token, "yaml": text})
    assert pasted.status == 400
    assert html.escape(text) in await pasted.text()  # the pasted text is kept to fix it
    assert await stored_snapshot(client) == before


# --- the simulator -----------------------------------------------------------------------------


async def simulate(client: Client, number: str, at: str = TUESDAY, dialed: str = "") -> str:
    response = await client.get(
        "/routing/simulate", params={"number": number, "at": at, "dialed": dialed}
    )
    assert response.status == 200
    return html.unescape(await response.text())


async def test_simulating_a_known_customer(client: Client) -> None:
    await supervisor(client)
    await add_customers(client)
    page = await simulate(client, "601 000 002")
    assert "+48601000002" in page
    assert "Jan Kowalski" in page
    assert "Anna Nowak" in page  # the key-account manager
    assert '<dd id="sim-rule"><strong>vip-key-account</strong>' in page
    assert "VIP, key account of Anna Nowak" in page
    assert '<dd id="sim-queue"><strong>vip</strong>, priority 10' in page
    assert "Anna Nowak (PJSIP/agent-1001) for 15 s" in page
    assert "<strong>collections</strong>: did not match" in page  # tried before, in order
    assert "<strong>vip</strong>: did not match" not in page  # after the match: not tried
    assert "No customer has this number" not in page


async def test_simulating_a_shared_number_lists_every_candidate(client: Client) -> None:
    await supervisor(client)
    await add_customers(client)
    page = await simulate(client, "+48601000009")
    assert "shared by 2 customers" in page
    beta, alfa = page.index("Firma Beta"), page.index("Firma Alfa")
    assert beta < alfa  # the VIP is ranked first and decides
    assert "Beta S.A." in page
    assert "Alfa sp. z o.o." in page
    assert '<dd id="sim-rule"><strong>vip</strong>' in page
    single = await simulate(client, "601000002")
    assert "shared by" not in single


async def test_simulating_a_withheld_number(client: Client) -> None:
    await supervisor(client)
    page = await simulate(client, "anonymous")
    assert "withheld or not a valid number" in page
    assert "no rule matched: the default queue" in page
    assert '<dd id="sim-queue"><strong>main</strong>' in page
    assert "Number withheld" in page


async def test_simulating_a_sunday_call_to_a_weekday_queue(client: Client) -> None:
    await supervisor(client)
    await add_customers(client)
    sunday = await simulate(client, "601000007", at=SUNDAY)
    assert '<dd id="sim-rule"><strong>collections</strong>' in sunday
    assert "collections is closed at this time: after-hours path message" in sunday
    tuesday = await simulate(client, "601000007", at=TUESDAY)
    assert "collections is open" in tuesday
    assert "closed at this time" not in tuesday


async def test_simulating_with_a_draft_rulebook(client: Client) -> None:
    token = await supervisor(client)
    await add_customers(client)
    await start_from_default(client, token)
    before = await stored_snapshot(client)
    draft = "rules:\n  - {name: draft-rule, when: {tier: vip}, then: {queue: drafted}}\n"
    response = await client.post(
        "/routing/simulate",
        data={"csrf_token": token, "number": "601000002", "at": TUESDAY, "draft": draft},
    )
    page = html.unescape(await response.text())
    assert response.status == 200
    assert '<dd id="sim-rule"><strong>draft-rule</strong>' in page
    assert '<dd id="sim-queue"><strong>drafted</strong>' in page
    assert "with the draft rulebook" in page
    assert await stored_snapshot(client) == before  # nothing stored
    stored = await simulate(client, "601000002")
    assert "vip-key-account" in stored
    assert "drafted" not in stored
    broken = await client.post(
        "/routing/simulate", data={"csrf_token": token, "number": "1", "draft": "rules: ["}
    )
    assert broken.status == 400
    assert "draft rulebook: not valid YAML" in await broken.text()


async def test_a_hostile_customer_name_is_escaped(client: Client) -> None:
    await supervisor(client)
    await add_customers(client)
    response = await client.get(
        "/routing/simulate", params={"number": "601000666", "at": TUESDAY, "dialed": XSS}
    )
    page = await response.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert XSS not in page


async def test_stored_rules_are_read_by_the_simulator(client: Client) -> None:
    await supervisor(client)
    await add_customers(client)
    document = await asyncio.to_thread(
        load_yaml, "rules:\n  - {name: all-to-x, then: {queue: x, reason: 'To x: {name}'}}\n"
    )
    async with database(client).sessions() as session, session.begin():
        await save_document(session, document)
    assert client.app is not None
    client.app[ROUTER].invalidate()
    page = await simulate(client, "601000002")
    assert "To x: Jan Kowalski" in page


async def test_an_upload_over_1_mb_is_refused(client: Client) -> None:
    token = await supervisor(client)
    await start_from_default(client, token)
    before = await stored_snapshot(client)
    upload = aiohttp.FormData()
    upload.add_field("csrf_token", token)
    big = b"# padding\n" * 110_000 + b"rules: []\n"
    upload.add_field("file", io.BytesIO(big), filename="rules.yaml", content_type="text/yaml")
    response = await client.post("/routing/rules/import", data=upload)
    assert response.status == 413
    assert await stored_snapshot(client) == before
