"""The history benchmark's data set: customers (as the routing benchmark makes them), their
cases and tasks, and a long history of interactions, deterministic from a seed.

Interactions are spread over customers by weight: about 1% are heavy customers (a weight of
200 to 800, so hundreds of contacts each), the others draw an exponential weight of mean 15;
about 5% of calls are from unknown numbers (no customer). Rows are made in time order (ids
grow with ``started_at``, as a live system appends them): 85% calls, 15% contacts logged by
hand (e-mails, notes, meetings). Loaded like ``bench.routing.dataset``: SQLite with
``executemany`` in large transactions, PostgreSQL with ``COPY``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.routing import dataset as customers_dataset
from contact_center.demo import people

BATCH = 50_000
HEAVY_SHARE = 0.01
HEAVY_WEIGHT = (200, 800)
LIGHT_MEAN = 15.0
UNKNOWN_SHARE = 0.05
HAND_SHARE = 0.15
HISTORY_DAYS = 730
QUEUES = ("main", "support-pl", "support-uk", "support-en", "vip", "cases", "overflow")
QUEUE_OF = {"pl": "support-pl", "uk": "support-uk", "en": "support-en"}
DISPOSITIONS = ("resolved", "information", "callback-needed", "sale", "complaint")
SUBJECTS = (
    "Offer for next year",
    "Invoice correction",
    "Delivery date",
    "Oferta na przyszły rok",
    "Korekta faktury",
    "Термін доставки",
    "Follow-up after the call",
    "Contract renewal",
)
INTERACTION_COLUMNS = [
    "id",
    "node",
    "linkedid",
    "uniqueid",
    "channel",
    "direction",
    "customer_id",
    "caller_number",
    "caller_e164",
    "caller_name",
    "dialed_number",
    "queue",
    "agent_id",
    "agent_interface",
    "route_rule",
    "route_reason",
    "started_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "ring_seconds",
    "talk_seconds",
    "hold_seconds",
    "wrapup_seconds",
    "transfers",
    "outcome",
    "hangup_by",
    "complete",
    "disposition",
    "subject",
    "notes",
    "created_by_id",
]
TASK_COLUMNS = [
    "id",
    "kind",
    "status",
    "customer_id",
    "phone_number",
    "interaction_id",
    "queue",
    "title",
    "notes",
    "due_at",
    "assigned_to_id",
    "created_by_id",
    "created_at",
    "done_at",
]
CASE_COLUMNS = ["id", "customer_id", "subject", "status", "owner_id", "opened_at", "closed_at"]
USER_COLUMNS = [
    "id",
    "username",
    "display_name",
    "role",
    "interface",
    "language",
    "password_hash",
    "active",
    "created_at",
]
CUSTOMER_COLUMNS = [
    "id",
    "name",
    "company",
    "tier",
    "language",
    "account_manager_id",
    "tags",
    "notes",
    "overdue_balance",
    "created_at",
    "updated_at",
]


@dataclass(slots=True)
class Shape:
    """What the data set holds, for the printout and the checks."""

    customers: int = 0
    numbers: int = 0
    interactions: int = 0
    tasks: int = 0
    cases: int = 0
    contacts: dict[int, int] = field(default_factory=dict)
    """Interactions per customer (customers with none are absent)."""
    open_tasks: dict[int, int] = field(default_factory=dict)
    mobiles: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return self.customers + self.numbers + self.interactions + self.tasks + self.cases


def agents(now: dt.datetime) -> list[tuple[object, ...]]:
    """The 40 users of the routing data set, each with a phone interface: agents here."""
    return [
        (*row[:4], f"PJSIP/agent-{1000 + int(str(row[0]))}", *row[5:])
        for row in customers_dataset.managers(now)
    ]


def weights(count: int, rng: random.Random) -> list[float]:
    """Cumulative weights of customers 1..count."""
    cumulative: list[float] = []
    total = 0.0
    for _ in range(count):
        if rng.random() < HEAVY_SHARE:
            total += rng.uniform(*HEAVY_WEIGHT)
        else:
            total += rng.expovariate(1 / LIGHT_MEAN)
        cumulative.append(total)
    return cumulative


def _call(
    ident: int,
    started: dt.datetime,
    customer: int | None,
    number: str,
    name: str,
    language: str,
    vip: bool,
    rng: random.Random,
) -> tuple[object, ...]:
    agent = rng.randint(1, customers_dataset.MANAGERS)
    queue = "vip" if vip else QUEUE_OF[language]
    rule, reason = ("key-account", "Key account") if vip else ("language", f"Language {language}")
    if customer is None:
        queue, rule, reason = "main", "unknown-caller", "Unknown caller"
    wait = min(rng.expovariate(1 / 25), 300.0)
    draw = rng.random()
    complete = rng.random() > 0.005
    if draw < 0.85:
        ring = rng.uniform(2, 15)
        talk = min(rng.lognormvariate(5.0, 0.7), 3600.0)
        hold = rng.uniform(10, 120) if rng.random() < 0.2 else 0.0
        wrapup = rng.uniform(10, 60)
        answered: dt.datetime | None = started + dt.timedelta(seconds=wait)
        ended = started + dt.timedelta(seconds=wait + talk)
        outcome, hangup = "answered", rng.choice(("caller", "agent"))
        disposition = rng.choice(DISPOSITIONS) if rng.random() < 0.7 else None
        notes = rng.choice(people.CALL_NOTES[language]) if rng.random() < 0.3 else ""
        transfers = 1 if rng.random() < 0.05 else 0
        figures: tuple[float | None, ...] = (wait, ring, talk, hold, wrapup)
        interface: str | None = f"PJSIP/agent-{1000 + agent}"
        agent_id: int | None = agent
    else:
        answered, ended = None, started + dt.timedelta(seconds=wait)
        outcome = "abandoned" if draw < 0.97 else "timeout"
        hangup = "caller" if outcome == "abandoned" else "system"
        disposition, notes, transfers = None, "", 0
        figures = (wait, None, None, None, None)
        interface, agent_id = None, None
    if not complete:
        figures = (None, None, None, None, None)
    return (
        ident,
        "node1",
        f"{started.timestamp():.6f}.{ident}",
        f"{started.timestamp():.6f}.{ident}",
        "voice",
        "inbound",
        customer,
        number,
        number,
        name,
        "+48223950100",
        queue,
        agent_id,
        interface,
        rule,
        reason,
        started,
        answered,
        ended,
        *figures,
        transfers,
        outcome,
        hangup,
        complete,
        disposition,
        "",
        notes,
        None,
    )


def _by_hand(
    ident: int, started: dt.datetime, customer: int, language: str, rng: random.Random
) -> tuple[object, ...]:
    channel = rng.choices(("email", "note", "meeting"), (55, 33, 12))[0]
    agent = rng.randint(1, customers_dataset.MANAGERS)
    direction = "internal" if channel == "note" else rng.choice(("inbound", "outbound"))
    notes = rng.choice(people.CALL_NOTES[language])
    return (
        ident,
        None,
        None,
        None,
        channel,
        direction,
        customer,
        "",
        None,
        "",
        "",
        None,
        agent,
        None,
        None,
        None,
        started,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        0,
        rng.choice(("logged", "logged", "resolved", "unresolved")),
        None,
        True,
        None,
        rng.choice(SUBJECTS),
        notes,
        agent,
    )


def interactions(
    shape: Shape, languages: Sequence[str], vips: Sequence[bool], count: int, seed: int,
    now: dt.datetime,
) -> Iterator[list[tuple[object, ...]]]:  # fmt: skip
    """``count`` interactions in time order, in batches; ``shape.contacts`` is filled."""
    rng = random.Random(f"bench-history-interactions:{seed}")
    cumulative = weights(shape.customers, rng)
    total = cumulative[-1]
    span = HISTORY_DAYS * 86400.0
    offsets = sorted(rng.uniform(0, span) for _ in range(count))
    start = now - dt.timedelta(seconds=span)
    batch: list[tuple[object, ...]] = []
    for ident, offset in enumerate(offsets, start=1):
        started = start + dt.timedelta(seconds=offset)
        if rng.random() < UNKNOWN_SHARE:
            number = f"+4860{rng.randrange(10**7):07d}"
            batch.append(_call(ident, started, None, number, "", "pl", False, rng))
        else:
            customer = bisect.bisect_right(cumulative, rng.random() * total) + 1
            customer = min(customer, shape.customers)
            shape.contacts[customer] = shape.contacts.get(customer, 0) + 1
            language = languages[customer]
            if rng.random() < HAND_SHARE:
                batch.append(_by_hand(ident, started, customer, language, rng))
            else:
                number = shape.mobiles[customer]
                name = shape.names[customer]
                vip = vips[customer]
                batch.append(_call(ident, started, customer, number, name, language, vip, rng))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def tasks_and_cases(
    shape: Shape, seed: int, now: dt.datetime
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """About 2% of customers owe a task (a third of tasks done), 3% have cases."""
    rng = random.Random(f"bench-history-tasks:{seed}")
    tasks: list[tuple[object, ...]] = []
    cases: list[tuple[object, ...]] = []
    for customer in range(1, shape.customers + 1):
        if rng.random() < 0.02:
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(("callback", "follow_up"))
                due = now + dt.timedelta(hours=rng.uniform(-72, 72))
                done = rng.random() < 0.33
                agent = rng.randint(1, customers_dataset.MANAGERS)
                by_queue = rng.random() < 0.3
                tasks.append(
                    (
                        len(tasks) + 1,
                        kind,
                        "done" if done else "open",
                        customer,
                        shape.mobiles[customer] if kind == "callback" else "",
                        None,
                        rng.choice(QUEUES[1:4]) if by_queue else None,
                        "Call back" if kind == "callback" else rng.choice(SUBJECTS),
                        "",
                        due,
                        None if by_queue and not done else agent,
                        agent,
                        due - dt.timedelta(days=1),
                        due if done else None,
                    )
                )
                if not done:
                    shape.open_tasks[customer] = shape.open_tasks.get(customer, 0) + 1
        if rng.random() < 0.03:
            for _ in range(rng.randint(1, 3)):
                opened = now - dt.timedelta(days=rng.uniform(0, 365))
                closed = rng.random() < 0.5
                cases.append(
                    (
                        len(cases) + 1,
                        customer,
                        rng.choice(SUBJECTS),
                        "closed" if closed else "open",
                        rng.randint(1, customers_dataset.MANAGERS),
                        opened,
                        opened + dt.timedelta(days=3) if closed else None,
                    )
                )
    shape.tasks, shape.cases = len(tasks), len(cases)
    return tasks, cases


def queue_rows() -> list[tuple[object, ...]]:
    return [
        (n, name, name.title(), 20, None, "{}", "[]", "message") for n, name in enumerate(QUEUES, 1)
    ]


def _customers(
    shape: Shape, count: int, seed: int, now: dt.datetime
) -> Iterator[customers_dataset.Generated]:
    """The routing data set's customers; records languages, VIPs, names and mobiles."""
    for batch in customers_dataset.generate(count, seed, now):
        for row in batch.customers:
            ident = int(str(row[0]))
            shape.names[ident] = str(row[1])
        for row in batch.numbers:
            if row[3] == "mobile":
                shape.mobiles.setdefault(int(str(row[1])), str(row[2]))
        shape.customers += len(batch.customers)
        shape.numbers += len(batch.numbers)
        yield batch


# --- SQLite ------------------------------------------------------------------------------------

TEXT_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _text(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime(TEXT_TIME)
    if isinstance(value, bool):
        return int(value)
    return value


def _insert(connection: sqlite3.Connection, table: str, columns: Sequence[str], rows: Any) -> None:
    marks = ", ".join("?" * len(columns))
    connection.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
        ([_text(value) for value in row] for row in rows),
    )


def load_sqlite(path: Path, customers: int, count: int, seed: int) -> Shape:
    """Fill the migrated, empty database at ``path`` (blocking: run it in a thread)."""
    start = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    shape = Shape()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.execute("BEGIN")
        _insert(connection, "users", USER_COLUMNS, agents(now))
        _insert(
            connection,
            "queues",
            ["id", "name", "display_name", "service_level_seconds", "timezone",
             "opening_hours", "holidays", "after_hours"],
            queue_rows(),
        )  # fmt: skip
        connection.execute("COMMIT")
        languages: list[str] = [""]
        vips: list[bool] = [False]
        for batch in _customers(shape, customers, seed, now):
            connection.execute("BEGIN")
            rows = [(*row[:8], float(str(row[8])), *row[9:]) for row in batch.customers]
            _insert(connection, "customers", CUSTOMER_COLUMNS, rows)
            _insert(
                connection, "phone_numbers", ["id", "customer_id", "e164", "label"], batch.numbers
            )
            connection.execute("COMMIT")
            languages.extend(str(row[4]) for row in batch.customers)
            vips.extend(row[3] == "vip" for row in batch.customers)
        for rows in interactions(shape, languages, vips, count, seed, now):
            connection.execute("BEGIN")
            _insert(connection, "interactions", INTERACTION_COLUMNS, rows)
            connection.execute("COMMIT")
            shape.interactions += len(rows)
        tasks, cases = tasks_and_cases(shape, seed, now)
        connection.execute("BEGIN")
        _insert(connection, "tasks", TASK_COLUMNS, tasks)
        _insert(connection, "cases", CASE_COLUMNS, cases)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    shape.seconds = time.perf_counter() - start
    return shape


# --- PostgreSQL --------------------------------------------------------------------------------


async def load_postgres(
    connection: asyncpg.Connection, customers: int, count: int, seed: int
) -> Shape:
    """Fill the migrated, empty database behind ``connection`` with COPY, then ANALYZE."""
    from decimal import Decimal

    start = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    shape = Shape()
    await connection.copy_records_to_table("users", records=agents(now), columns=USER_COLUMNS)
    await connection.copy_records_to_table(
        "queues",
        records=[(*row[:5], "{}", "[]", row[7]) for row in queue_rows()],
        columns=["id", "name", "display_name", "service_level_seconds", "timezone",
                 "opening_hours", "holidays", "after_hours"],
    )  # fmt: skip
    languages: list[str] = [""]
    vips: list[bool] = [False]
    for batch in _customers(shape, customers, seed, now):
        rows = [(*row[:8], Decimal(str(row[8])), *row[9:]) for row in batch.customers]
        async with connection.transaction():
            await connection.copy_records_to_table(
                "customers", records=rows, columns=CUSTOMER_COLUMNS
            )
            await connection.copy_records_to_table(
                "phone_numbers",
                records=batch.numbers,
                columns=["id", "customer_id", "e164", "label"],
            )
        languages.extend(str(row[4]) for row in batch.customers)
        vips.extend(row[3] == "vip" for row in batch.customers)
    for rows in interactions(shape, languages, vips, count, seed, now):
        await connection.copy_records_to_table(
            "interactions", records=rows, columns=INTERACTION_COLUMNS
        )
        shape.interactions += len(rows)
    tasks, cases = tasks_and_cases(shape, seed, now)
    await connection.copy_records_to_table("tasks", records=tasks, columns=TASK_COLUMNS)
    await connection.copy_records_to_table("cases", records=cases, columns=CASE_COLUMNS)
    for table in (
        "users",
        "queues",
        "customers",
        "phone_numbers",
        "interactions",
        "tasks",
        "cases",
    ):
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
            f" (SELECT coalesce(max(id), 1) FROM {table}))"
        )
    await connection.execute("ANALYZE")
    shape.seconds = time.perf_counter() - start
    return shape


def heavy(shape: Shape, minimum: int = 200) -> list[int]:
    """Customers with at least ``minimum`` interactions."""
    return sorted(c for c, n in shape.contacts.items() if n >= minimum)


def sample(population: Sequence[int], count: int, seed: str) -> list[int]:
    rng = random.Random(seed)
    return [rng.choice(population) for _ in range(count)]


def spread(values: Sequence[int]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "none"

    def pick(share: float) -> int:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return f"p50 {pick(0.5)}, p90 {pick(0.9)}, p99 {pick(0.99)}, max {ordered[-1]}"
