"""Field checks shared by contacts, tasks and search: pure functions, no I/O.

Text typed by people is stored as typed (markup, quotes and SQL are data), but what no
database or page should hold is refused: control characters (a NUL is refused by PostgreSQL
anyway), lone surrogates (not UTF-8), one-line fields with line breaks, oversized values.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

SUBJECT_MAX = 200
"""interactions.subject and tasks.title are String(200)."""
NOTES_MAX = 20_000
DISPOSITION_MAX = 64
"""interactions.disposition is String(64)."""
MULTILINE_ALLOWED = frozenset("\n\r\t")
MAX_ID = 2**31 - 1
"""Ids are INTEGER columns."""


def _bad_character(text: str, allowed: frozenset[str]) -> str | None:
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) in {"Cc", "Cs"}:
            return char
    return None


def one_line(value: object, field: str, maximum: int, error: type[ValueError]) -> str:
    """A stripped single line of at most ``maximum`` characters; may be empty."""
    if not isinstance(value, str):
        raise error(f"{field} must be text")
    text = value.strip()
    if len(text) > maximum:
        raise error(f"{field} is longer than {maximum} characters")
    bad = _bad_character(text, frozenset())
    if bad is not None:
        raise error(f"{field} must be one line without control characters (found {bad!r})")
    return text


def multi_line(value: object, field: str, maximum: int, error: type[ValueError]) -> str:
    """Stripped free text of at most ``maximum`` characters: line breaks and tabs allowed."""
    if not isinstance(value, str):
        raise error(f"{field} must be text")
    text = value.strip()
    if len(text) > maximum:
        raise error(f"{field} is longer than {maximum} characters")
    bad = _bad_character(text, MULTILINE_ALLOWED)
    if bad is not None:
        raise error(f"{field} must not hold control characters (found {bad!r})")
    return text


def aware(value: object, field: str, error: type[ValueError]) -> dt.datetime:
    """A timezone-aware datetime, in UTC."""
    if not isinstance(value, dt.datetime):
        raise error(f"{field} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise error(f"{field} must be timezone-aware (UTC)")
    return value.astimezone(dt.UTC)


def identifier(value: object, field: str, error: type[ValueError]) -> int:
    """A database id: a positive int (a bool is not one)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise error(f"{field} must be a whole number from 1 to {MAX_ID}")
    return value


def code(value: object, field: str, maximum: int, error: type[ValueError]) -> str | None:
    """A short code such as a disposition: None or blank is None; one line otherwise."""
    if value is None:
        return None
    text = one_line(value, field, maximum, error)
    return text or None
