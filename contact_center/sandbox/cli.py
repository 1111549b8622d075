"""`contact-center sandbox ...` and `contact-center up` (the one-command demo)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
from typing import Any

from aiohttp import web
from sqlalchemy import select

from contact_center.accounts.demo import DemoPassword, demo_password, log_demo_logins
from contact_center.demo import DemoDataError, demo_callers, load_demo_data
from contact_center.runtime import open_database
from contact_center.sandbox.asterisk import AsteriskSandbox
from contact_center.sandbox.sipp import place_call
from contact_center.sandbox.traffic import AGENT_ENDPOINTS, run_traffic
from contact_center.settings import Secret, Settings
from contact_center.storage.db import upgrade
from contact_center.storage.models import Queue, QueueMembership, User
from contact_center.web.app import create_app

log = logging.getLogger(__name__)


def add_sandbox_commands(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="the Asterisk sandbox (Debian sid chroot)")
    actions = sandbox.add_subparsers(dest="sandbox_command", required=True)
    actions.add_parser("build", help="build the sandbox root once (debootstrap)")
    actions.add_parser("up", help="install our config and start Asterisk")
    actions.add_parser("down", help="stop Asterisk")
    actions.add_parser("status", help="is it running, which version")
    call = actions.add_parser("call", help="place one SIP call from the trunk")
    call.add_argument("number", help="caller number, e.g. +48601234567")
    call.add_argument("--name", default="", help="caller display name")
    call.add_argument("--dialed", default="800100200")
    call.add_argument("--hold", type=float, default=5.0, help="talk seconds once answered")
    call.add_argument("--hangup-after", type=float, default=None, help="abandon after N s")
    traffic = actions.add_parser("traffic", help="a steady mix of demo customers calling in")
    traffic.add_argument("--rate", type=float, default=6.0, help="calls per minute")
    traffic.add_argument("--agents", type=int, default=4, help="agent phones answering (<=6)")
    traffic.add_argument("--duration", type=float, default=300.0, help="seconds of arrivals")
    traffic.add_argument("--max-calls", type=int, default=200)

    up = commands.add_parser(
        "up", help="demo: migrate, load demo data, start the sandbox and serve (Ctrl-C stops)"
    )
    up.add_argument("--no-sandbox", action="store_true", help="use an Asterisk of your own")
    up.add_argument("--traffic", type=float, default=0.0, help="demo calls per minute")


def run_sandbox_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "up":
        asyncio.run(_up(settings, with_sandbox=not args.no_sandbox, traffic=args.traffic))
        return 0
    sandbox = AsteriskSandbox(settings)
    match args.sandbox_command:
        case "build":
            root = asyncio.run(sandbox.build())
            log.info("sandbox root ready at %s", root)
        case "up":
            asyncio.run(sandbox.up())
            log.info("Asterisk is up; AMI secret in %s", sandbox.ami_secret_file())
        case "down":
            asyncio.run(sandbox.down())
        case "status":
            status = asyncio.run(sandbox.status())
            log.info("%s", status)
            return 0 if status.running else 3
        case "call":
            result = asyncio.run(
                place_call(
                    sandbox,
                    caller_number=args.number,
                    caller_name=args.name,
                    dialed=args.dialed,
                    hold_seconds=args.hold,
                    hangup_after=args.hangup_after,
                )
            )
            log.info("%s", result)
            return 0 if result.outcome != "failed" else 1
        case "traffic":
            asyncio.run(
                _traffic(settings, sandbox, args.rate, args.agents, args.duration, args.max_calls)
            )
    return 0


async def add_agents_to_their_queues(
    settings: Settings, sandbox: AsteriskSandbox, interfaces: tuple[str, ...]
) -> None:
    """Log the demo agents in: each phone joins the queues the database gives it."""
    async with open_database(settings) as database, database.sessions() as session:
        rows = await session.execute(
            select(User.interface, User.display_name, Queue.name, QueueMembership.penalty)
            .join(QueueMembership, QueueMembership.user_id == User.id)
            .join(Queue, Queue.id == QueueMembership.queue_id)
            .where(User.interface.in_(interfaces))
        )
        memberships = list(rows)
    for interface, _name, queue, penalty in memberships:
        await sandbox.cli(f"queue add member {interface} to {queue} penalty {int(penalty)}")


async def _traffic(
    settings: Settings,
    sandbox: AsteriskSandbox,
    rate: float,
    agents: int,
    duration: float,
    max_calls: int,
) -> None:
    async with open_database(settings) as database:
        callers = await demo_callers(database.sessions, limit=200)
    interfaces = tuple(f"PJSIP/{endpoint}" for endpoint in AGENT_ENDPOINTS[:agents])
    await add_agents_to_their_queues(settings, sandbox, interfaces)
    result = await run_traffic(
        sandbox,
        callers,
        rate_per_minute=rate,
        agents=agents,
        duration=duration,
        max_calls=max_calls,
        queue=None,
    )
    log.info("traffic: %s calls placed, outcomes %s", result.placed, result.outcomes)


async def _up(settings: Settings, *, with_sandbox: bool, traffic: float) -> None:
    async with open_database(settings) as database:
        await upgrade(database.engine)
        password = await demo_password(settings)
        demo: DemoPassword | None = password
        try:
            summary = await load_demo_data(database.sessions, password_hash=password.password_hash)
            log.info("demo data: %s", summary)
        except DemoDataError as err:
            demo = None
            log.info("keeping the data already there: %s", err)

    sandbox = AsteriskSandbox(settings)
    async with contextlib.AsyncExitStack() as stack:
        if with_sandbox:
            if os.geteuid() != 0:
                log.error("the Asterisk sandbox needs root (chroot); use --no-sandbox")
                return
            log.info("starting the Asterisk sandbox (the first time builds it: about 2 min)")
            await sandbox.up()
            stack.push_async_callback(sandbox.down)
            if settings.ami_secret is None:
                secret = sandbox.ami_secret_file().read_text(encoding="utf-8").strip()
                settings = dataclasses.replace(settings, ami_secret=Secret(secret))
        settings.require_ami_secret()
        app = await asyncio.to_thread(create_app, settings, with_bridge=True)
        runner = web.AppRunner(app)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("contact center on http://%s:%s/", settings.http_host, settings.http_port)
        if demo is not None:
            log_demo_logins(demo)

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if with_sandbox and traffic > 0:
            task = asyncio.create_task(
                _traffic(settings, sandbox, traffic, len(AGENT_ENDPOINTS), 24 * 3600.0, 10_000)
            )
            stack.push_async_callback(_cancel, task)
        await stop.wait()
        log.info("stopping")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
