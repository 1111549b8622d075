"""Caller numbers as carriers send them, turned into E.164 (or recognised as unusable)."""

from __future__ import annotations

import phonenumbers

MAX_INPUT = 64
"""Longer caller ids are garbage, not numbers: never parse them."""

_WITHHELD = {"", "anonymous", "unknown", "unavailable", "restricted", "private", "withheld"}


def normalize(raw: str, region: str) -> str | None:
    """E.164 for a caller number, or None when it is withheld, empty or not a valid number.

    `region` (ISO 3166, e.g. "PL") is how national numbers without a prefix are read.
    """
    text = raw.strip()
    if text.lower() in _WITHHELD or len(text) > MAX_INPUT:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
