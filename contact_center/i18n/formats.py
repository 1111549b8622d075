"""Dates, times and numbers in a language's locale, in the center's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers

from contact_center.i18n.catalogs import DEFAULT_LANGUAGE, LOCALES

Moment = dt.datetime | float | int
"""An aware datetime, or seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class Formats:
    """Formatting for one center: its time zone is the one dates are shown in.

    Make it with `Formats.load` at start-up: Babel reads each locale's data from disk the
    first time it is used, which must not happen on the event loop."""

    timezone: ZoneInfo
    locales: Mapping[str, Locale]

    @classmethod
    def load(cls, timezone: str) -> Formats:
        """Blocking: reads the time zone and the locales' data."""
        locales = {language: Locale.parse(name) for language, name in LOCALES.items()}
        for locale in locales.values():
            _ = locale.datetime_formats, locale.number_symbols, locale.decimal_formats
        return cls(ZoneInfo(timezone), locales)

    def _locale(self, language: str | None) -> Locale:
        return self.locales.get(language or "", self.locales[DEFAULT_LANGUAGE])

    def _aware(self, value: Moment) -> dt.datetime:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetimes cannot be shown: give a time zone")
            return value.astimezone(self.timezone)
        return dt.datetime.fromtimestamp(value, self.timezone)

    def datetime(self, value: Moment, language: str | None, form: str = "medium") -> str:
        return dates.format_datetime(self._aware(value), form, locale=self._locale(language))

    def date(self, value: Moment | dt.date, language: str | None, form: str = "medium") -> str:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dates.format_date(value, form, locale=self._locale(language))
        day = self._aware(value).date()
        return dates.format_date(day, form, locale=self._locale(language))

    def time(self, value: Moment, language: str | None, form: str = "medium") -> str:
        return dates.format_time(self._aware(value), form, locale=self._locale(language))

    def weekday(self, value: Moment, language: str | None) -> str:
        return dates.format_datetime(self._aware(value), "EEEE", locale=self._locale(language))

    def number(self, value: int | float | Decimal, language: str | None) -> str:
        return numbers.format_decimal(value, locale=self._locale(language))

    def duration(self, seconds: float, language: str | None) -> str:
        """A length of time in words, e.g. "2 minutes"."""
        return dates.format_timedelta(
            dt.timedelta(seconds=seconds), threshold=1.5, locale=self._locale(language)
        )
