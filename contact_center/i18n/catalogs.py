"""The translation catalogs: read from the committed .po files and compiled in memory."""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES: Final = ("en", "pl", "uk")
"""The languages a user can have; the texts in the code are English."""
DEFAULT_LANGUAGE: Final = "en"
LOCALES: Final[Mapping[str, str]] = {"en": "en_GB", "pl": "pl_PL", "uk": "uk_UA"}
"""The Babel locale that formats each language's dates and numbers (English the European way:
day before month, 24-hour clock)."""
LOCALE_DIR: Final = Path(__file__).parent / "locales"
DOMAIN: Final = "messages"


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True, slots=True)
class Catalogs:
    """One compiled catalog per language."""

    translations: Mapping[str, gettext.NullTranslations]

    def get(self, language: str | None) -> gettext.NullTranslations:
        return self.translations.get(language or "", self.translations[DEFAULT_LANGUAGE])


def compile_po(path: Path) -> Translations:
    """A .po file as ready-to-use translations (blocking: it reads the file)."""
    with path.open("rb") as file:
        catalog = read_po(file)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Catalogs:
    """Every language's catalog (blocking: call it at start-up or in a thread). English is
    the code's own text; a missing catalog of another language is an error, not English."""
    translations: dict[str, gettext.NullTranslations] = {DEFAULT_LANGUAGE: NullTranslations()}
    for language in LANGUAGES:
        if language != DEFAULT_LANGUAGE:
            translations[language] = compile_po(po_path(language, locale_dir))
    return Catalogs(translations)


def negotiate(accept_language: str | None) -> str:
    """The language to show someone not logged in, from the browser's Accept-Language."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = tag.strip().lower().replace("_", "-").split("-")[0]
        if quality > 0 and language in LANGUAGES:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
