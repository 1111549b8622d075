"""Languages on the web: which language a request is served in, the `_()` and `{% trans %}`
of the templates, and the filters that format dates and numbers for it.

A logged-in user gets their own language (users.language); someone not logged in gets the
best match of their browser's Accept-Language. Templates see `language`; views translate
with `translator(request)`."""

from __future__ import annotations

import gettext
from typing import Any

import jinja2
from aiohttp import web
from jinja2 import pass_context
from jinja2.runtime import Context

from contact_center.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogs, Formats, negotiate
from contact_center.web.auth import maybe_user
from contact_center.web.keys import CATALOGS


def request_language(request: web.Request) -> str:
    identity = maybe_user(request)
    if identity is not None and identity.language in LANGUAGES:
        return identity.language
    return negotiate(request.headers.get("Accept-Language"))


def translator(request: web.Request) -> gettext.NullTranslations:
    """The catalog of the request's language, for texts made in Python."""
    return request.app[CATALOGS].get(request_language(request))


async def i18n_context(request: web.Request) -> dict[str, Any]:
    """For every template: the language it is rendered in."""
    return {"language": request_language(request)}


def install(env: jinja2.Environment, catalogs: Catalogs, formats: Formats) -> None:
    """`_`, `gettext`, `ngettext` and the format filters, reading `language` from each
    template's context (so one environment serves every language)."""

    def language_of(context: Context) -> str:
        language = context.get("language")
        return language if isinstance(language, str) else DEFAULT_LANGUAGE

    @pass_context
    def _gettext(context: Context, message: str) -> str:
        return catalogs.get(language_of(context)).gettext(message)

    @pass_context
    def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
        return catalogs.get(language_of(context)).ngettext(singular, plural, n)

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["translate"] = _gettext
    """A text made in Python (an error message) in the page's language, if the catalog has
    it; unlike `_()` it is no format string, so a stray % in it is harmless."""

    @pass_context
    def datetime_filter(context: Context, value: Any, form: str = "medium") -> str:
        return formats.datetime(value, language_of(context), form)

    @pass_context
    def date_filter(context: Context, value: Any, form: str = "medium") -> str:
        return formats.date(value, language_of(context), form)

    @pass_context
    def time_filter(context: Context, value: Any, form: str = "medium") -> str:
        return formats.time(value, language_of(context), form)

    @pass_context
    def weekday_filter(context: Context, value: Any) -> str:
        return formats.weekday(value, language_of(context))

    @pass_context
    def number_filter(context: Context, value: Any) -> str:
        return formats.number(value, language_of(context))

    env.filters.update(
        datetime=datetime_filter,
        date=date_filter,
        time=time_filter,
        weekday=weekday_filter,
        number=number_filter,
    )
