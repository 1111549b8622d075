"""The catalogs are complete, and the language of a request is chosen as documented."""

# ruff: noqa: RUF001  (Cyrillic letters in Ukrainian texts are meant, not look-alikes)

from __future__ import annotations

import datetime as dt

import pytest

from contact_center.i18n import Formats, load_catalogs, negotiate
from contact_center.i18n.extract import extract, problems


def test_every_text_is_translated_into_every_language() -> None:
    assert len(extract()) > 50
    assert problems() == []


def test_catalogs_translate_and_fall_back_to_english() -> None:
    catalogs = load_catalogs()
    assert catalogs.get("pl").gettext("Log in") == "Zaloguj się"
    assert catalogs.get("uk").gettext("Log in") == "Увійти"
    assert catalogs.get("en").gettext("Log in") == "Log in"
    assert catalogs.get("de").gettext("Log in") == "Log in"
    assert catalogs.get(None).gettext("Log in") == "Log in"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("pl-PL,pl;q=0.9,en;q=0.8", "pl"),
        ("de-DE,uk;q=0.5,pl;q=0.4", "uk"),
        ("en;q=0.2, pl;q=0.9", "pl"),
        ("pl;q=0, uk", "uk"),
        ("fr, de", "en"),
        ("PL_pl", "pl"),
        ("pl;q=bogus, uk;q=0.1", "uk"),
    ],
)
def test_negotiate(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_formats_use_the_centers_time_zone() -> None:
    formats = Formats.load("Europe/Kyiv")
    moment = dt.datetime(2026, 7, 1, 21, 30, tzinfo=dt.UTC)
    assert formats.datetime(moment, "pl") == "2 lip 2026, 00:30:00"
    assert formats.datetime(moment.timestamp(), "en") == "2 Jul 2026, 00:30:00"
    assert formats.date(dt.date(2026, 7, 1), "uk", "full") == "середа, 1 липня 2026\u202fр."
    assert formats.number(12345.5, "pl") == "12\u00a0345,5"
    with pytest.raises(ValueError, match="naive"):
        formats.datetime(dt.datetime(2026, 7, 1), "en")
