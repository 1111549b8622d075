"""`contact-center user add` and `contact-center user passwd`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from typing import Any

from contact_center.accounts.passwords import Passwords, check_strength
from contact_center.accounts.users import change_password, create_user
from contact_center.errors import WeakPassword
from contact_center.runtime import open_database
from contact_center.settings import Settings
from contact_center.storage.models import LANGUAGE_VALUES, ROLE_VALUES

log = logging.getLogger(__name__)


def add_user_commands(commands: Any) -> None:
    """Add `user add` and `user passwd` to the top-level subparsers."""
    user = commands.add_parser("user", help="web accounts: add users, set passwords")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add a user (asks for the password twice)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLE_VALUES)
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--interface", default=None, help="the agent's phone, e.g. PJSIP/agent-1001")
    add.add_argument("--language", default="en", choices=LANGUAGE_VALUES)
    add.add_argument("--password-stdin", action="store_true", help="read one line from stdin")
    passwd = actions.add_parser("passwd", help="set a user's password (ends their sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read one line from stdin")


def read_password(from_stdin: bool) -> str:
    """One line from stdin, or typed twice at the terminal; refused if too short."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise WeakPassword("the two passwords differ")
    check_strength(password)
    return password


async def _add(settings: Settings, args: argparse.Namespace, password: str) -> None:
    async with open_database(settings) as database:
        await create_user(
            database.sessions,
            Passwords(),
            username=args.username,
            password=password,
            role=args.role,
            display_name=args.name,
            language=args.language,
            interface=args.interface,
        )


async def _passwd(settings: Settings, args: argparse.Namespace, password: str) -> None:
    async with open_database(settings) as database:
        await change_password(database.sessions, Passwords(), args.username, password)


def run_user_command(settings: Settings, args: argparse.Namespace) -> None:
    password = read_password(args.password_stdin)
    match args.user_command:
        case "add":
            asyncio.run(_add(settings, args, password))
        case "passwd":
            asyncio.run(_passwd(settings, args, password))
