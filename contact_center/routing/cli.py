"""`contact-center rules export|import|check`: the rulebook as a YAML file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from contact_center.routing.rulebook import RulebookDocument, dump_yaml, load_yaml
from contact_center.routing.store import default_document, load_document, save_document
from contact_center.runtime import open_database
from contact_center.settings import Settings

log = logging.getLogger(__name__)


def add_rules_commands(commands: Any) -> None:
    rules = commands.add_parser("rules", help="the routing rulebook as YAML")
    actions = rules.add_subparsers(dest="rules_command", required=True)
    export = actions.add_parser("export", help="write the rulebook (default: to stdout)")
    export.add_argument("file", nargs="?", type=Path)
    load = actions.add_parser("import", help="replace the rulebook with a file's, if it is valid")
    load.add_argument("file", type=Path)
    check = actions.add_parser("check", help="validate a file without importing it")
    check.add_argument("file", type=Path)


async def _read(path: Path) -> RulebookDocument:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    document = await asyncio.to_thread(load_yaml, text)  # resolves time zones: disk
    # building resolves every time zone: a file that cannot route is refused here
    await asyncio.to_thread(document.build, "main", "UTC")
    return document


async def _export(settings: Settings, path: Path | None) -> None:
    async with open_database(settings) as database, database.sessions() as session:
        document = await load_document(session) or await default_document()
    text = dump_yaml(document)
    if path is None:
        sys.stdout.write(text)
    else:
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        log.info("rulebook (%s rules) written to %s", len(document.rules), path)


async def _import(settings: Settings, path: Path) -> None:
    document = await _read(path)
    async with (
        open_database(settings) as database,
        database.sessions() as session,
        session.begin(),
    ):
        await save_document(session, document)
    log.info("rulebook imported from %s: %s rules", path, len(document.rules))


def run_rules_command(settings: Settings, args: argparse.Namespace) -> int:
    match args.rules_command:
        case "export":
            asyncio.run(_export(settings, args.file))
        case "import":
            asyncio.run(_import(settings, args.file))
        case "check":
            document = asyncio.run(_read(args.file))
            log.info("%s is valid: %s rules", args.file, len(document.rules))
    return 0
