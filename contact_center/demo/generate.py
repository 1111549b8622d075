"""Pure generation of the demo customers and their call history: no I/O, no awaits.

Everything is drawn from `random.Random` streams seeded from the caller's seed, so the same
seed (and the same `now`) gives the same data. Customers' names, companies and numbers do
not depend on `now` (only their `created_at` dates do)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from contact_center.demo import people
from contact_center.demo.numbers import Kind, random_number

CENTER_ZONE = ZoneInfo("Europe/Warsaw")
"""Business hours are those of the center, whatever the caller's country."""

LANGUAGE_WEIGHTS = {"pl": 45, "uk": 30, "en": 25}
EN_REGION_WEIGHTS = {"GB": 60, "IE": 15, "US": 25}
REGION_OF = {"pl": "PL", "uk": "UA"}

DIALED = {"pl": "+48223950100", "uk": "+380443950100", "en": "+442079460100"}
"""The center's own numbers, one per language line."""

CALLS_PER_CUSTOMER_PER_30_DAYS = 2.5
UNKNOWN_CALLER_SHARE = 0.08
SHARED_NUMBERS = 3
QUEUE_TIMEOUT_SECONDS = 120.0
DISPOSITIONS = {
    "resolved": 45,
    "information": 25,
    "callback-needed": 12,
    "sale": 10,
    "complaint": 8,
}
OUTCOMES = {"answered": 85, "abandoned": 12, "timeout": 3}
HOUR_WEIGHTS = {8: 6, 9: 10, 10: 12, 11: 11, 12: 9, 13: 10, 14: 10, 15: 9, 16: 8, 17: 6}
SATURDAY_HOUR_WEIGHTS = {9: 10, 10: 10, 11: 8, 12: 6, 13: 4}
OFF_HOURS = (7, 18, 19, 20)
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.05)  # Monday .. Sunday
NORMAL_CLEARING = {"cause": 16, "cause_txt": "Normal Clearing"}


@dataclass(frozen=True, slots=True)
class DemoPhone:
    e164: str
    label: str


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    name: str
    company: str | None
    tier: str
    language: str
    region: str
    account_manager: str | None
    """Username of the key-account manager (an agent)."""
    tags: tuple[str, ...]
    notes: str
    overdue_balance: Decimal
    phones: tuple[DemoPhone, ...]
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DemoEvent:
    at: dt.datetime
    kind: str
    queue: str | None = None
    agent_interface: str | None = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DemoCall:
    customer: int | None
    """Index into the customer list, None for an unknown caller."""
    linkedid: str
    caller_number: str
    caller_name: str
    dialed_number: str
    queue: str
    route_rule: str
    route_reason: str
    agent: str | None
    """Username of the agent who answered."""
    agent_interface: str | None
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    wait_seconds: float
    talk_seconds: float | None
    outcome: str
    hangup_by: str
    disposition: str | None
    notes: str
    events: tuple[DemoEvent, ...]


def _weighted(rng: random.Random, weights: dict[Any, float] | dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# --- customers -----------------------------------------------------------------------------------


def _person(rng: random.Random, language: str) -> str:
    female = rng.random() < 0.5
    if language == "pl":
        first = rng.choice(people.PL_FIRST_FEMALE if female else people.PL_FIRST_MALE)
        surname = rng.choice(people.PL_SURNAMES)
    elif language == "uk":
        first = rng.choice(people.UK_FIRST_FEMALE if female else people.UK_FIRST_MALE)
        surname = rng.choice(people.UK_SURNAMES)
    else:
        first = rng.choice(people.EN_FIRST_FEMALE if female else people.EN_FIRST_MALE)
        surname = rng.choice(people.EN_SURNAMES)
    name = f"{first} {people.feminine_surname(surname, language) if female else surname}"
    if language == "uk" and rng.random() < 0.2:
        name = people.transliterate_uk(name)
    return name


def _agents_speaking(language: str) -> list[str]:
    return [u.username for u in people.USERS if u.role == "agent" and u.language == language]


class _Numbers:
    """Draws numbers that no customer has yet."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self, region: str, kind: Kind) -> str:
        while True:
            number = random_number(self.rng, region, kind)
            if number not in self.used:
                self.used.add(number)
                return number


def _phones(rng: random.Random, numbers: _Numbers, region: str, company: bool) -> list[DemoPhone]:
    landline_label = "office" if company else "home"
    if rng.random() < 0.85:
        phones = [DemoPhone(numbers.draw(region, "mobile"), "mobile")]
        if rng.random() < 0.35:
            phones.append(DemoPhone(numbers.draw(region, "landline"), landline_label))
    else:
        phones = [DemoPhone(numbers.draw(region, "landline"), landline_label)]
        if rng.random() < 0.5:
            phones.append(DemoPhone(numbers.draw(region, "mobile"), "mobile"))
    return phones


def generate_customers(count: int, seed: int, *, today: dt.date) -> list[DemoCustomer]:
    """`count` customers; a few pairs of colleagues share their company's switchboard."""
    rng = random.Random(f"demo-customers:{seed}")
    numbers = _Numbers(random.Random(f"demo-phones:{seed}"))
    customers: list[DemoCustomer] = []
    for _ in range(count):
        language = _weighted(rng, LANGUAGE_WEIGHTS)
        region = REGION_OF.get(language) or _weighted(rng, EN_REGION_WEIGHTS)
        company = rng.choice(people.COMPANIES[language]) if rng.random() < 0.3 else None
        vip = rng.random() < 0.08
        manager = None
        if rng.random() < (0.8 if vip else 0.03):
            manager = rng.choice(_agents_speaking(language))
        tags = ["b2b"] if company else (["retail"] if rng.random() < 0.6 else [])
        if vip and rng.random() < 0.7:
            tags.append("priority-support")
        tags += [t for t in people.TAGS if t not in tags and rng.random() < 0.07]
        notes = rng.choice(people.CUSTOMER_NOTES[language]) if rng.random() < 0.2 else ""
        overdue = Decimal(0)
        if rng.random() < 0.07:
            overdue = Decimal(rng.randint(4_000, 900_000)) / 100
        customers.append(
            DemoCustomer(
                name=_person(rng, language),
                company=company,
                tier="vip" if vip else "standard",
                language=language,
                region=region,
                account_manager=manager,
                tags=tuple(tags),
                notes=notes,
                overdue_balance=overdue,
                phones=tuple(_phones(rng, numbers, region, company is not None)),
                created_at=dt.datetime.combine(
                    today - dt.timedelta(days=rng.randint(35, 1500)),
                    dt.time(rng.randint(7, 19), rng.randint(0, 59), rng.randint(0, 59)),
                    tzinfo=dt.UTC,
                ),
            )
        )
    _share_switchboards(rng, numbers, customers)
    return customers


def _share_switchboards(
    rng: random.Random, numbers: _Numbers, customers: list[DemoCustomer]
) -> None:
    """Give SHARED_NUMBERS pairs of colleagues one switchboard number (a routing edge case).

    A pair is two customers of the same language and region; the second joins the first's
    company if need be. The switchboard replaces a second number, so nobody has more than 2."""
    taken: set[int] = set()
    for _ in range(SHARED_NUMBERS):
        pair = _colleagues(customers, taken)
        if pair is None:
            return
        first, _ = pair
        taken.update(pair)
        company = customers[first].company
        if company is None:
            company = rng.choice(people.COMPANIES[customers[first].language])
        switchboard = DemoPhone(numbers.draw(customers[first].region, "landline"), "switchboard")
        for index in pair:
            customer = customers[index]
            tags = customer.tags if "b2b" in customer.tags else ("b2b", *customer.tags)
            customers[index] = dataclasses.replace(
                customer,
                company=company,
                tags=tuple(t for t in tags if t != "retail"),
                phones=(customer.phones[0], switchboard),
            )


def _colleagues(customers: list[DemoCustomer], taken: set[int]) -> tuple[int, int] | None:
    by_company: dict[str, list[int]] = {}
    for index, customer in enumerate(customers):
        if customer.company and index not in taken:
            by_company.setdefault(customer.company, []).append(index)
    for company in sorted(by_company):
        members = by_company[company]
        for a in members:
            for b in members:
                if a < b and customers[a].region == customers[b].region:
                    return a, b
    free = [i for i in range(len(customers)) if i not in taken]
    for a in free:
        for b in free:
            if a < b and customers[a].region == customers[b].region:
                return a, b
    return None


# --- history ---------------------------------------------------------------------------------


def route(customer: DemoCustomer | None) -> tuple[str, str, str]:
    """(queue, rule, reason) the way the router decides: VIP, overdue, language, default."""
    if customer is None:
        return "main", "default", "Unknown caller"
    if customer.tier == "vip":
        return "vip", "vip", "VIP customer"
    if customer.overdue_balance > 0:
        return "collections", "collections", f"Overdue balance {customer.overdue_balance}"
    if customer.language in ("pl", "uk", "en"):
        queue = f"support-{customer.language}"
        return queue, "language", f"Customer language {customer.language} -> {queue}"
    return "main", "default", "No rule matched"


def queue_members() -> dict[str, list[people.DemoUser]]:
    members: dict[str, list[people.DemoUser]] = {}
    for user in people.USERS:
        for queue, _penalty in user.queues:
            members.setdefault(queue, []).append(user)
    return members


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _start(rng: random.Random, now: dt.datetime, days: int) -> dt.datetime:
    """A start time in [now - days, now), mostly Mon-Fri 8-18 in the center's zone."""
    local_now = now.astimezone(CENTER_ZONE)
    dates = [local_now.date() - dt.timedelta(days=d) for d in range(days + 1)]
    weights = [DAY_WEIGHTS[d.weekday()] for d in dates]
    earliest, latest = now - dt.timedelta(days=days), now - dt.timedelta(hours=1)
    for _ in range(1000):
        date = rng.choices(dates, weights=weights)[0]
        if rng.random() < 0.04:
            hour = rng.choice(OFF_HOURS)
        elif date.weekday() == 5:
            hour = _weighted(rng, SATURDAY_HOUR_WEIGHTS)
        else:
            hour = _weighted(rng, HOUR_WEIGHTS)
        local = dt.datetime.combine(
            date,
            dt.time(hour, rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999) * 1000),
            tzinfo=CENTER_ZONE,
        )
        start = local.astimezone(dt.UTC)
        if earliest <= start < latest:
            return start
    return earliest + (latest - earliest) * rng.random()  # pragma: no cover


def _ms(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(milliseconds=round(rng.uniform(low, high) * 1000))


def _call(
    rng: random.Random,
    started: dt.datetime,
    customer_index: int | None,
    customer: DemoCustomer | None,
    caller_number: str,
    members: dict[str, list[people.DemoUser]],
) -> DemoCall:
    queue, rule, reason = route(customer)
    language = customer.language if customer else "pl"
    outcome = _weighted(rng, OUTCOMES)
    routed = started + _ms(rng, 0.05, 0.4)
    queued = routed + _ms(rng, 0.1, 0.6)
    events = [
        DemoEvent(started, "arrived", detail={"caller": caller_number, "dialed": DIALED[language]}),
        DemoEvent(routed, "routed", queue, detail={"rule": rule, "reason": reason}),
        DemoEvent(queued, "queued", queue, detail={"position": rng.choice((1, 1, 1, 2, 2, 3))}),
    ]
    agent = None
    if customer and customer.account_manager and rng.random() < 0.6:
        agent = next((u for u in members[queue] if u.username == customer.account_manager), None)
    agent = agent or rng.choice(members[queue])
    answered: dt.datetime | None = None
    talk: float | None = None
    disposition: str | None = None
    notes = ""
    if outcome == "answered":
        scale = 8.0 if queue == "vip" else 18.0
        wait = 2.0 + min(118.0, rng.expovariate(1 / scale))
        answered = started + dt.timedelta(milliseconds=round(wait * 1000))
        ring = max(queued, answered - _ms(rng, 2.0, 9.0))
        talk_time = min(900.0, max(30.0, rng.lognormvariate(math.log(200), 0.75)))
        ended = answered + dt.timedelta(milliseconds=round(talk_time * 1000))
        hangup_by = "caller" if rng.random() < 0.6 else "agent"
        talk = (ended - answered).total_seconds()
        disposition = _weighted(rng, DISPOSITIONS)
        if rng.random() < 0.25:
            notes = rng.choice(people.CALL_NOTES[agent.language])
        wait_seconds = (answered - started).total_seconds()
        events += [
            DemoEvent(ring, "ringing", queue, agent.interface, {"agent": agent.username}),
            DemoEvent(
                answered,
                "connected",
                queue,
                agent.interface,
                {"agent": agent.username, "hold_time": round(wait_seconds)},
            ),
            DemoEvent(
                ended,
                "completed",
                queue,
                agent.interface,
                {"talk_time": round(talk), "hangup_by": hangup_by},
            ),
            DemoEvent(ended, "hangup", detail=NORMAL_CLEARING),
        ]
    else:
        if outcome == "abandoned":
            wait = 4.0 + min(116.0, rng.expovariate(1 / 30))
            hangup_by = "caller"
        else:
            wait = QUEUE_TIMEOUT_SECONDS + rng.uniform(0.0, 0.9)
            hangup_by = "system"
        ended = started + dt.timedelta(milliseconds=round(wait * 1000))
        wait_seconds = (ended - started).total_seconds()
        if wait > 8 and rng.random() < 0.6:
            ring = ended - _ms(rng, 1.0, 6.0)
            events.append(
                DemoEvent(ring, "ringing", queue, agent.interface, {"agent": agent.username})
            )
        events += [
            DemoEvent(ended, outcome, queue, detail={"hold_time": round(wait_seconds)}),
            DemoEvent(ended, "hangup", detail=NORMAL_CLEARING),
        ]
    answered_by = agent if outcome == "answered" else None
    return DemoCall(
        customer=customer_index,
        linkedid="",
        caller_number=caller_number,
        caller_name=customer.name if customer else "",
        dialed_number=DIALED[language],
        queue=queue,
        route_rule=rule,
        route_reason=reason,
        agent=answered_by.username if answered_by else None,
        agent_interface=answered_by.interface if answered_by else None,
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        wait_seconds=wait_seconds,
        talk_seconds=talk,
        outcome=outcome,
        hangup_by=hangup_by,
        disposition=disposition,
        notes=notes,
        events=tuple(events),
    )


def generate_history(
    customers: list[DemoCustomer], *, days: int, seed: int, now: dt.datetime
) -> list[DemoCall]:
    """About 2.5 calls per customer per 30 days (scaled to `days`), plus some unknown callers,
    in start order, each with a unique Asterisk-style linkedid ``<epoch>.<sequence>``."""
    if days <= 0:
        return []
    rng = random.Random(f"demo-history:{seed}")
    unknown = random.Random(f"demo-unknown:{seed}")
    members = queue_members()
    mean = CALLS_PER_CUSTOMER_PER_30_DAYS * days / 30
    calls: list[DemoCall] = []
    for index, customer in enumerate(customers):
        for _ in range(_poisson(rng, mean)):
            primary = rng.random() < 0.8
            number = customer.phones[0 if primary else -1].e164
            calls.append(_call(rng, _start(rng, now, days), index, customer, number, members))
    known = {phone.e164 for customer in customers for phone in customer.phones}
    for _ in range(round(len(calls) * UNKNOWN_CALLER_SHARE)):
        region = _weighted(unknown, {"PL": 60, "UA": 25, "GB": 10, "US": 5})
        number = random_number(unknown, region, "mobile")
        if number not in known:
            calls.append(_call(rng, _start(rng, now, days), None, None, number, members))
    calls.sort(key=lambda call: call.started_at)
    sequence = rng.randint(100, 999)
    numbered = []
    for call in calls:
        sequence += rng.randint(2, 9)
        linkedid = f"{int(call.started_at.timestamp())}.{sequence}"
        numbered.append(dataclasses.replace(call, linkedid=linkedid))
    return numbered
