"""The `contact-center` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

from aiohttp import web

from contact_center import logs
from contact_center.errors import ContactCenterError, SettingsError
from contact_center.health.server import serve_bridge_health
from contact_center.health.watchdog import LoopWatchdog
from contact_center.runtime import open_database, open_messaging, run_bridge
from contact_center.settings import Settings, load_settings
from contact_center.storage.db import upgrade
from contact_center.web.app import create_app

log = logging.getLogger(__name__)


def _serve(settings: Settings, *, with_bridge: bool) -> None:
    if with_bridge:
        settings.require_ami_secret()
    app = create_app(settings, with_bridge=with_bridge)
    app.cleanup_ctx.append(_watchdog_ctx(settings))
    log.info("web on http://%s:%s/", settings.http_host, settings.http_port)
    web.run_app(app, host=settings.http_host, port=settings.http_port, print=None)


@contextlib.contextmanager
def _watchdog(settings: Settings) -> Iterator[None]:
    """The frozen-loop watchdog (CC_WATCHDOG_SECONDS; 0 turns it off)."""
    if not settings.watchdog_seconds:
        yield
        return
    watchdog = LoopWatchdog(settings.watchdog_seconds)
    watchdog.start()
    try:
        yield
    finally:
        watchdog.stop()


def _watchdog_ctx(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def watchdog_ctx(_app: web.Application) -> AsyncIterator[None]:
        with _watchdog(settings):
            yield

    return watchdog_ctx


async def _bridge_only(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with (
        open_database(settings) as database,
        open_messaging(settings) as messaging,
        run_bridge(settings, database, messaging) as bridge,
        serve_bridge_health(database, messaging, bridge),
    ):
        with _watchdog(settings):
            await stop.wait()
    log.info("bridge stopped")


async def _db_upgrade(settings: Settings) -> None:
    async with open_database(settings) as database:
        await upgrade(database.engine)


async def _demo_data(settings: Settings, customers: int) -> None:
    from contact_center.accounts.demo import demo_password, log_demo_logins
    from contact_center.demo import load_demo_data

    async with open_database(settings) as database:
        await upgrade(database.engine)
        demo = await demo_password(settings)
        summary = await load_demo_data(
            database.sessions, customers=customers, password_hash=demo.password_hash
        )
    log.info("demo data: %s", summary)
    log_demo_logins(demo)


def _require_redis(settings: Settings, command: str) -> None:
    if settings.redis_url is None:
        raise SettingsError(
            f"CC_REDIS_URL is not set: `{command}` runs as a separate process and shares "
            "live state with the others through Redis (use `serve` for one process)"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-center", description="Open-source contact center on Asterisk."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="bridge and web in one process (embedded default)")
    commands.add_parser("bridge", help="the bridge to one Asterisk node (split mode, Redis)")
    commands.add_parser("web", help="a web process (split mode, Redis)")
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the Alembic migrations")
    demo = commands.add_parser("demo-data", help="load a realistic demo data set")
    demo.add_argument("--customers", type=int, default=300)
    from contact_center.accounts.cli import add_user_commands
    from contact_center.agents.cli import add_codes_commands
    from contact_center.routing.cli import add_rules_commands
    from contact_center.sandbox.cli import add_sandbox_commands

    add_rules_commands(commands)

    add_user_commands(commands)
    add_codes_commands(commands)
    add_sandbox_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as err:
        print(f"contact-center: {err}", file=sys.stderr)  # noqa: T201
        return 2
    logs.configure(settings.log_level)
    try:
        match args.command:
            case "serve":
                _serve(settings, with_bridge=True)
            case "web":
                _require_redis(settings, "web")
                _serve(settings, with_bridge=False)
            case "bridge":
                _require_redis(settings, "bridge")
                settings.require_ami_secret()
                asyncio.run(_bridge_only(settings))
            case "db":
                asyncio.run(_db_upgrade(settings))
            case "demo-data":
                asyncio.run(_demo_data(settings, args.customers))
            case "user":
                from contact_center.accounts.cli import run_user_command

                run_user_command(settings, args)
            case "codes":
                from contact_center.agents.cli import run_codes_command

                run_codes_command(settings, args)
            case "rules":
                from contact_center.routing.cli import run_rules_command

                return run_rules_command(settings, args)
            case "sandbox" | "up":
                from contact_center.sandbox.cli import run_sandbox_command

                with contextlib.suppress(KeyboardInterrupt):
                    return run_sandbox_command(settings, args)
    except ContactCenterError as err:
        log.error("%s", err)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
