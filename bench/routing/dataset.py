"""The routing benchmark's data set: N customers, 2N phone numbers, deterministic from a seed.

Rows are made in plain Python (no ORM) and loaded as fast as each database allows: SQLite
with ``executemany`` in large transactions (WAL, ``synchronous=OFF`` during the load only),
PostgreSQL with ``COPY`` (asyncpg ``copy_records_to_table``). The schema always comes from our
Alembic migrations, created beforehand by the caller.

Numbers are drawn from national number blocks that ``phonenumbers`` accepts as valid (each
block is checked once), so the router's ``normalize`` sees numbers like real callers'.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
import phonenumbers

from contact_center.demo import people

BATCH = 50_000
LANGUAGES = ("pl", "uk", "en")
LANGUAGE_WEIGHTS = (45, 30, 25)
VIP_SHARE = 0.05
OVERDUE_SHARE = 0.05
COMPANY_SHARE = 0.25
MANAGERS = 40
SHARED_SHARE = 0.01
"""Share of company customers whose office number is the previous company landline drawn
(a shared switchboard): about 0.25% of customers."""

# (country code, national prefixes, national significant number length)
PLANS: dict[str, tuple[str, tuple[str, ...], int]] = {
    "PL-mobile": (
        "48", ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 9
    ),
    "PL-landline": ("48", ("22", "12", "61", "71", "58", "42"), 9),
    "UA-mobile": (
        "380", ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"), 9
    ),
    "UA-landline": ("380", ("44", "32", "57", "48"), 9),
    "GB-mobile": ("44", ("74", "75", "77", "78", "79"), 10),
}  # fmt: skip
REGION_OF = {"pl": "PL", "uk": "UA", "en": "GB"}
BLOCK_DIGITS = 4
"""Numbers are drawn per block: the first 4 national digits, each block checked as valid."""
_BLOCK_SAMPLES = 4


@dataclass(frozen=True, slots=True)
class LoadStats:
    customers: int
    numbers: int
    users: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return (self.customers + self.numbers + self.users) / max(self.seconds, 1e-9)


class NumberPlan:
    """Valid E.164 numbers of one plan (e.g. Polish mobiles), from pre-checked blocks."""

    def __init__(self, plan: str, rng: random.Random) -> None:
        country, prefixes, length = PLANS[plan]
        self.country = country
        self.rest_digits = length - BLOCK_DIGITS
        check = random.Random(f"blocks:{plan}")
        blocks: list[str] = []
        for prefix in prefixes:
            for tail in range(10 ** (BLOCK_DIGITS - len(prefix))):
                block = f"{prefix}{tail:0{BLOCK_DIGITS - len(prefix)}d}"
                if all(
                    phonenumbers.is_valid_number(
                        phonenumbers.parse(
                            f"+{country}{block}{check.randrange(10**self.rest_digits):0{self.rest_digits}d}"
                        )
                    )
                    for _ in range(_BLOCK_SAMPLES)
                ):
                    blocks.append(block)
        if not blocks:
            raise RuntimeError(f"no valid number block in plan {plan}")
        self.blocks = tuple(blocks)
        self._rng = rng

    def draw(self) -> str:
        rng = self._rng
        rest = rng.randrange(10**self.rest_digits)
        return f"+{self.country}{rng.choice(self.blocks)}{rest:0{self.rest_digits}d}"


class Numbers:
    """Distinct numbers across every plan, drawn from one seeded generator."""

    def __init__(self, rng: random.Random, exclude: frozenset[str] = frozenset()) -> None:
        self.plans = {name: NumberPlan(name, rng) for name in PLANS}
        self.used: set[str] = set(exclude)

    def draw(self, plan: str) -> str:
        source = self.plans[plan]
        for _ in range(1000):
            number = source.draw()
            if number not in self.used:
                self.used.add(number)
                return number
        raise RuntimeError(f"plan {plan} is exhausted")  # pragma: no cover


def _names(language: str) -> tuple[Sequence[str], Sequence[str], Sequence[str]]:
    if language == "pl":
        return people.PL_FIRST_MALE, people.PL_FIRST_FEMALE, people.PL_SURNAMES
    if language == "uk":
        return people.UK_FIRST_MALE, people.UK_FIRST_FEMALE, people.UK_SURNAMES
    return people.EN_FIRST_MALE, people.EN_FIRST_FEMALE, people.EN_SURNAMES


def managers(now: dt.datetime) -> list[tuple[object, ...]]:
    """The account managers: (id, username, display_name, role, interface, language,
    password_hash, active, created_at)."""
    rows: list[tuple[object, ...]] = []
    for n in range(1, MANAGERS + 1):
        language = LANGUAGES[n % 3]
        male, female, surnames = _names(language)
        name = f"{(female if n % 2 else male)[n % 7]} {surnames[n % len(surnames)]}"
        role = "supervisor" if n % 10 == 0 else "agent"
        rows.append((n, f"am{n:03d}", name, role, None, language, None, True, now))
    return rows


@dataclass(slots=True)
class Generated:
    customers: list[tuple[object, ...]]
    numbers: list[tuple[object, ...]]


def generate(count: int, seed: int, now: dt.datetime) -> Iterator[Generated]:
    """Customers and their numbers in batches: exactly 2 numbers per customer.

    Customer rows: (id, name, company, tier, language, account_manager_id, tags, notes,
    overdue_balance, created_at, updated_at); number rows: (id, customer_id, e164, label).
    A few office numbers are shared by colleagues (see ``SHARED_SHARE``).
    """
    rng = random.Random(f"bench-routing-customers:{seed}")
    numbers = Numbers(random.Random(f"bench-routing-numbers:{seed}"))
    companies = {language: people.COMPANIES[language] for language in LANGUAGES}
    names = {language: _names(language) for language in LANGUAGES}
    phone_id = 0
    switchboard = ""
    batch = Generated([], [])
    for customer_id in range(1, count + 1):
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        male, female, surnames = names[language]
        is_female = rng.random() < 0.5
        first = rng.choice(female if is_female else male)
        surname = rng.choice(surnames)
        if is_female:
            surname = people.feminine_surname(surname, language)
        company = rng.choice(companies[language]) if rng.random() < COMPANY_SHARE else None
        vip = rng.random() < VIP_SHARE
        manager = rng.randint(1, MANAGERS) if vip and rng.random() < 0.9 else None
        overdue = "0"
        if rng.random() < OVERDUE_SHARE:
            overdue = str(Decimal(rng.randint(4_000, 900_000)) / 100)
        created = now - dt.timedelta(seconds=rng.randrange(5 * 365 * 86400))
        batch.customers.append(
            (
                customer_id,
                f"{first} {surname}",
                company,
                "vip" if vip else "standard",
                language,
                manager,
                '["b2b"]' if company else "[]",
                "",
                overdue,
                created,
                created,
            )
        )
        region = REGION_OF[language]
        mobile = numbers.draw(f"{region}-mobile")
        if company and switchboard and rng.random() < SHARED_SHARE:
            second, label = switchboard, "office"
        elif region == "GB" or rng.random() < 0.5:
            second, label = numbers.draw(f"{region}-mobile"), "mobile"
        else:
            second, label = numbers.draw(f"{region}-landline"), "office" if company else "home"
            if company:
                switchboard = second
        batch.numbers.append((phone_id + 1, customer_id, mobile, "mobile"))
        batch.numbers.append((phone_id + 2, customer_id, second, label))
        phone_id += 2
        if len(batch.customers) >= BATCH:
            yield batch
            batch = Generated([], [])
    if batch.customers:
        yield batch


def unknown_numbers(count: int, seed: int) -> list[str]:
    """Valid numbers from the same plans but another generator: almost none is a customer's
    (the caller filters out the few that are)."""
    rng = random.Random(f"bench-routing-unknown:{seed}")
    numbers = Numbers(rng)
    plans = list(PLANS)
    return [numbers.draw(rng.choice(plans)) for _ in range(count)]


# --- SQLite ------------------------------------------------------------------------------------


def load_sqlite(path: Path, count: int, seed: int) -> LoadStats:
    """Fill the migrated, empty database at ``path`` (blocking: run it in a thread)."""
    import time

    start = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        connection.execute("PRAGMA foreign_keys=OFF")
        text_time = "%Y-%m-%d %H:%M:%S.%f"
        connection.execute("BEGIN")
        users = [(*row[:8], now.strftime(text_time)) for row in managers(now)]
        connection.executemany(
            "INSERT INTO users (id, username, display_name, role, interface, language,"
            " password_hash, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            users,
        )
        connection.execute("COMMIT")
        customers = numbers = 0
        for batch in generate(count, seed, now):
            rows = [
                (*row[:8], float(row[8]), row[9].strftime(text_time), row[10].strftime(text_time))  # type: ignore[attr-defined]
                for row in batch.customers
            ]
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO customers (id, name, company, tier, language, account_manager_id,"
                " tags, notes, overdue_balance, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            connection.executemany(
                "INSERT INTO phone_numbers (id, customer_id, e164, label) VALUES (?, ?, ?, ?)",
                batch.numbers,
            )
            connection.execute("COMMIT")
            customers += len(batch.customers)
            numbers += len(batch.numbers)
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return LoadStats(customers, numbers, len(users), time.perf_counter() - start)


def sqlite_sample(path: Path, count: int, seed: int) -> tuple[list[str], int]:
    """``count`` numbers of random phone rows (repeats possible) and the table's row count."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total = connection.execute("SELECT max(id) FROM phone_numbers").fetchone()[0]
        rng = random.Random(f"bench-routing-sample:{seed}")
        ids = [rng.randint(1, total) for _ in range(count)]
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                connection.execute(
                    f"SELECT id, e164 FROM phone_numbers WHERE id IN ({marks})",  # noqa: S608
                    chunk,
                ).fetchall()
            )
        return [found[i] for i in ids], total
    finally:
        connection.close()


def sqlite_existing(path: Path, candidates: Sequence[str]) -> set[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        existing: set[str] = set()
        for start in range(0, len(candidates), 500):
            chunk = list(candidates[start : start + 500])
            marks = ",".join("?" * len(chunk))
            existing.update(
                row[0]
                for row in connection.execute(
                    f"SELECT e164 FROM phone_numbers WHERE e164 IN ({marks})",  # noqa: S608
                    chunk,
                )
            )
        return existing
    finally:
        connection.close()


# --- PostgreSQL --------------------------------------------------------------------------------


async def load_postgres(connection: asyncpg.Connection, count: int, seed: int) -> LoadStats:
    """Fill the migrated, empty database behind ``connection`` with COPY, then ANALYZE."""
    import time

    start = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    users = managers(now)
    await connection.copy_records_to_table(
        "users",
        records=users,
        columns=[
            "id",
            "username",
            "display_name",
            "role",
            "interface",
            "language",
            "password_hash",
            "active",
            "created_at",
        ],
    )
    customers = numbers = 0
    customer_columns = [
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
    for batch in generate(count, seed, now):
        rows = [(*row[:8], Decimal(str(row[8])), *row[9:]) for row in batch.customers]
        async with connection.transaction():
            await connection.copy_records_to_table(
                "customers", records=rows, columns=customer_columns
            )
            await connection.copy_records_to_table(
                "phone_numbers",
                records=batch.numbers,
                columns=["id", "customer_id", "e164", "label"],
            )
        customers += len(batch.customers)
        numbers += len(batch.numbers)
    for table in ("users", "customers", "phone_numbers"):
        await connection.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
        )
    await connection.execute("ANALYZE")
    return LoadStats(customers, numbers, len(users), time.perf_counter() - start)


async def postgres_sample(
    connection: asyncpg.Connection, count: int, seed: int
) -> tuple[list[str], int]:
    total = await connection.fetchval("SELECT max(id) FROM phone_numbers")
    rng = random.Random(f"bench-routing-sample:{seed}")
    ids = [rng.randint(1, total) for _ in range(count)]
    rows = await connection.fetch(
        "SELECT id, e164 FROM phone_numbers WHERE id = ANY($1::int[])", sorted(set(ids))
    )
    found = {row["id"]: row["e164"] for row in rows}
    return [found[i] for i in ids], total


async def postgres_existing(connection: asyncpg.Connection, candidates: Sequence[str]) -> set[str]:
    rows = await connection.fetch(
        "SELECT e164 FROM phone_numbers WHERE e164 = ANY($1::text[])", list(candidates)
    )
    return {row["e164"] for row in rows}
