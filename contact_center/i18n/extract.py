"""Extract the texts to translate from the code and templates, and merge them into the
catalogs: `python -m contact_center.i18n.extract` (what `pybabel extract` and `pybabel
update` do, with this project's settings in one place). The test suite runs `check` to
fail on a text missing from the catalogs or left untranslated."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from contact_center.i18n.catalogs import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR, po_path
from contact_center.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

METHODS: Final = [
    ("contact_center/**.py", "python"),
    ("agent_ui/templates/**.html", "jinja2.ext:babel_extract"),
]
KEYWORDS: Final = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "refusal": (4,),
}
"""`refusal(request, status, error, message)`: its message is shown translated."""
OPTIONS: Final = {"agent_ui/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extract(root: Path = PROJECT_ROOT) -> Catalog:
    """Every marked text of the code and the templates, as a template catalog."""
    catalog = Catalog(project="contact_center", domain=DOMAIN, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        root, METHODS, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    ):
        if "/i18n/" in filename:  # the marker's own docstring examples
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update(root: Path = PROJECT_ROOT, locale_dir: Path = LOCALE_DIR) -> None:
    """Write messages.pot and merge it into each language's .po (new texts untranslated)."""
    template = extract(root)
    with (locale_dir / f"{DOMAIN}.pot").open("wb") as file:
        write_po(file, template, width=100, omit_header=False, sort_output=True)
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language, locale_dir)
        if path.exists():
            with path.open("rb") as file:
                catalog = read_po(file, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, project="contact_center")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as file:
            write_po(file, catalog, width=100, ignore_obsolete=True, sort_output=True)
        log.info("%s: %d texts", path, len(catalog))


def problems(root: Path = PROJECT_ROOT, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """What is wrong with the catalogs: texts missing, untranslated, fuzzy, or whose
    placeholders differ from the English."""
    wanted = {m.id for m in extract(root) if m.id}
    found: list[str] = []
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        with po_path(language, locale_dir).open("rb") as file:
            catalog = read_po(file, locale=language)
        present = {m.id for m in catalog if m.id}
        for missing in sorted(wanted - present, key=str):
            found.append(f"{language}: missing {missing!r}")
        for message in catalog:
            if not message.id or message.id not in wanted:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(f"{language}: untranslated {message.id!r}")
            elif message.fuzzy:
                found.append(f"{language}: fuzzy {message.id!r}")
        for message, errors in catalog.check():
            found.extend(f"{language}: {message.id!r}: {error}" for error in errors)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["update", "check"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "update":
        update()
    else:
        for problem in problems():
            log.error("%s", problem)


if __name__ == "__main__":
    main()
