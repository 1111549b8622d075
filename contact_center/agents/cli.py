"""`contact-center codes list|set`: the pause reasons and disposition codes from the shell
(the same service as the admins' JSON API)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from contact_center.agents import codes
from contact_center.runtime import open_database
from contact_center.settings import Settings
from contact_center.storage.models import AGENT_CODE_KINDS


def add_codes_commands(commands: Any) -> None:
    """Add `codes list` and `codes set` to the top-level subparsers."""
    parser = commands.add_parser("codes", help="pause reasons and disposition codes")
    actions = parser.add_subparsers(dest="codes_command", required=True)
    listing = actions.add_parser("list", help="a list's entries, in order (tab-separated)")
    listing.add_argument("kind", choices=AGENT_CODE_KINDS)
    listing.add_argument("--all", action="store_true", help="retired entries too")
    put = actions.add_parser("set", help="add an entry, or change its label or position")
    put.add_argument("kind", choices=AGENT_CODE_KINDS)
    put.add_argument("code", help="short stable id: a-z, 0-9, '_' or '-'")
    put.add_argument("label", help="what agents (and Asterisk, for a pause) see")
    put.add_argument("--position", type=int, default=None)
    put.add_argument("--retire", action="store_true", help="hide it from agents from now on")


def _line(code: codes.Code) -> str:
    state = "active" if code.active else "retired"
    return f"{code.code}\t{code.label}\t{code.position}\t{state}\n"


async def _run(settings: Settings, args: argparse.Namespace) -> str:
    async with (
        open_database(settings) as database,
        database.sessions() as session,
        session.begin(),
    ):
        if args.codes_command == "list":
            found = await codes.list_codes(session, args.kind, everything=args.all)
            return "".join(_line(code) for code in found)
        saved = await codes.save_code(
            session,
            args.kind,
            args.code,
            args.label,
            position=args.position,
            active=not args.retire,
        )
        return _line(saved)


def run_codes_command(settings: Settings, args: argparse.Namespace) -> None:
    sys.stdout.write(asyncio.run(_run(settings, args)))
