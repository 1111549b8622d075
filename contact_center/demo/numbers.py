"""Plausible, valid E.164 numbers for the demo, drawn from real numbering plans.

Each candidate is checked with ``phonenumbers.is_valid_number`` and redrawn until it passes,
so the routing code sees numbers exactly like the ones real callers present."""

from __future__ import annotations

import random
from typing import Literal

import phonenumbers

Kind = Literal["mobile", "landline"]

# region -> kind -> (country code, national prefixes, national significant number length)
_PLANS: dict[str, dict[Kind, tuple[str, tuple[str, ...], int]]] = {
    "PL": {
        "mobile": (
            "48",
            ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"),
            9,
        ),
        "landline": ("48", ("22", "12", "61", "71", "58", "42"), 9),
    },
    "UA": {
        "mobile": (
            "380",
            ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"),
            9,
        ),
        "landline": ("380", ("44", "32", "57", "48"), 9),
    },
    "GB": {
        "mobile": ("44", ("74", "75", "77", "78", "79"), 10),
        "landline": ("44", ("20", "113", "161", "121"), 10),
    },
    "IE": {
        "mobile": ("353", ("83", "85", "86", "87", "89"), 9),
        "landline": ("353", ("1",), 8),
    },
    "US": {
        "mobile": ("1", ("212", "312", "415", "617", "646", "718", "202"), 10),
        "landline": ("1", ("212", "312", "415", "617", "646", "718", "202"), 10),
    },
}  # fmt: skip

REGIONS = tuple(_PLANS)
_MAX_TRIES = 1000


def random_number(rng: random.Random, region: str, kind: Kind = "mobile") -> str:
    """One valid E.164 number of `kind` in `region` (PL, UA, GB, IE or US)."""
    try:
        country, prefixes, length = _PLANS[region][kind]
    except KeyError:
        raise ValueError(f"no demo numbering plan for {region} {kind}") from None
    for _ in range(_MAX_TRIES):
        prefix = rng.choice(prefixes)
        rest = "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
        candidate = f"+{country}{prefix}{rest}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    raise RuntimeError(f"no valid {region} {kind} number in {_MAX_TRIES} draws")  # pragma: no cover


def demo_numbers(
    region: str,
    count: int,
    *,
    seed: int = 2026,
    kind: Kind = "mobile",
    exclude: frozenset[str] = frozenset(),
) -> list[str]:
    """`count` distinct valid E.164 numbers for `region`, the same for the same seed.

    Useful to a traffic generator for unknown callers: pass the customers' numbers as
    `exclude` to be sure none of them is recognised."""
    rng = random.Random(f"demo-numbers:{seed}:{region}:{kind}")
    numbers: list[str] = []
    seen = set(exclude)
    while len(numbers) < count:
        number = random_number(rng, region, kind)
        if number not in seen:
            seen.add(number)
            numbers.append(number)
    return numbers
