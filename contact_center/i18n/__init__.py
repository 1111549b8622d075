"""Languages: the agent desk speaks English, Polish and Ukrainian, chosen per user.

Texts are marked in templates (`{% trans %}`, `_()`) and in Python (`gettext`); `pybabel`
extracts them into `locales/messages.pot` and each language keeps a `.po` catalog, which
is compiled in memory when the web app starts (no build step, no .mo files). Dates, times
and numbers are formatted by Babel for the user's locale. See `locales/README.md` for how
to update the catalogs."""

from __future__ import annotations

from contact_center.i18n.catalogs import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LOCALES,
    Catalogs,
    load_catalogs,
    negotiate,
)
from contact_center.i18n.formats import Formats


def N_(message: str) -> str:
    """Mark a text for the catalogs where it is made; it is translated where it is shown."""
    return message


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALES",
    "N_",
    "Catalogs",
    "Formats",
    "load_catalogs",
    "negotiate",
]
