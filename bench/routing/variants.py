"""Prototype route handlers, measured beside the real one with ``--variants``.

They are proposals for ``contact_center/routing/``, not part of it, and mirror the route of
the last commit (``decide(e164, records, default_queue=...)``, five ``SET VARIABLE``):

- ``core``: the lookup as one statement built once at import, run on an ``AsyncConnection``
  (no ORM ``Session``, no per-call ``select()``/``aliased()`` construction).
- ``pipelined``: the real router, but the five ``SET VARIABLE`` lines are written at once and
  the five answers read after (one round trip instead of five).
- ``core+pipelined``: both.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from contact_center.agi import protocol
from contact_center.agi.protocol import AgiRequest, Hangup
from contact_center.agi.server import AgiSession, Handler
from contact_center.errors import AgiHangup
from contact_center.routing.numbers import normalize
from contact_center.routing.rules import CallerRecord, RouteDecision, decide
from contact_center.routing.service import Router
from contact_center.settings import Settings
from contact_center.storage.models import Customer, PhoneNumber, User

log = logging.getLogger(__name__)

_MANAGER = aliased(User)
LOOKUP = (
    select(
        Customer.id,
        Customer.name,
        Customer.tier,
        Customer.language,
        Customer.overdue_balance,
        _MANAGER.display_name,
    )
    .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
    .outerjoin(_MANAGER, _MANAGER.id == Customer.account_manager_id)
    .where(PhoneNumber.e164 == bindparam("e164"))
    .order_by(Customer.id)
)
"""``lookup_caller``'s query, built once: only its cache key is computed per call."""


def answers(decision: RouteDecision) -> dict[str, str]:
    return {
        "CC_QUEUE": decision.queue,
        "CC_QUEUE_PRIORITY": str(decision.priority),
        "CC_CUSTOMER_ID": "" if decision.customer_id is None else str(decision.customer_id),
        "CC_ROUTE_RULE": decision.rule,
        "CC_ROUTE_REASON": decision.reason,
    }


async def set_variables(session: AgiSession, values: Mapping[str, str]) -> None:
    """All ``SET VARIABLE`` lines in one write, then their answers: one round trip.

    Prototype of an ``AgiSession.set_variables``; it reaches into the session's streams.
    """
    writer = session._writer
    reader = session._reader
    writer.write(b"".join(protocol.set_variable(name, value) for name, value in values.items()))
    await writer.drain()
    parser = protocol.ResponseParser()
    pending = len(values)
    async with asyncio.timeout(5.0):
        while pending:
            line = await reader.readuntil(b"\n")
            answer = parser.feed_line(line)
            if isinstance(answer, Hangup):
                raise AgiHangup("the channel hung up")
            if answer is not None:
                protocol.check_response(answer, "SET VARIABLE")
                pending -= 1


class CoreRouter:
    """``Router.route`` with the lookup on an ``AsyncConnection`` and a prebuilt statement."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._region = settings.default_region
        self._default_queue = settings.default_queue
        self._timeout = settings.agi_route_timeout * 0.6

    async def route(self, caller_raw: str, *, uniqueid: str = "") -> RouteDecision:
        e164 = normalize(caller_raw, self._region)
        if e164 is None:
            return decide(None, (), default_queue=self._default_queue)
        try:
            async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
                rows = (await connection.execute(LOOKUP, {"e164": e164})).all()
        except (TimeoutError, SQLAlchemyError, OSError) as err:
            log.warning(
                "uniqueid=%s customer lookup failed (%s): default queue", uniqueid, err or "timeout"
            )
            return RouteDecision(self._default_queue, 0, "fallback", "Customer lookup unavailable")
        records = [CallerRecord(*row) for row in rows]
        return decide(e164, records, default_queue=self._default_queue)


async def measure_core_lookup(
    engine: AsyncEngine, settings: Settings, known: Sequence[str], count: int
) -> list[float]:
    """``CoreRouter``'s lookup alone, one at a time (as ``run.measure_lookup``)."""
    latencies: list[float] = []
    for n in range(min(count, len(known)) + 100):
        start = time.perf_counter_ns()
        async with engine.connect() as connection:
            (await connection.execute(LOOKUP, {"e164": known[n % len(known)]})).all()
        if n >= 100:
            latencies.append((time.perf_counter_ns() - start) / 1000)
    return latencies


def _engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = sessions.kw["bind"]
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an AsyncEngine")
    return bind


def core(router: Router, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Handler:
    fast = CoreRouter(_engine(sessions), settings)

    async def handle(request: AgiRequest, session: AgiSession) -> None:
        decision = await fast.route(request.caller_num, uniqueid=request.uniqueid)
        for name, value in answers(decision).items():
            await session.set_variable(name, value)

    return handle


def pipelined(
    router: Router, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Handler:
    async def handle(request: AgiRequest, session: AgiSession) -> None:
        decision = await router.route(request.caller_num, uniqueid=request.uniqueid)
        await set_variables(session, answers(decision))

    return handle


def core_pipelined(
    router: Router, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Handler:
    fast = CoreRouter(_engine(sessions), settings)

    async def handle(request: AgiRequest, session: AgiSession) -> None:
        decision = await fast.route(request.caller_num, uniqueid=request.uniqueid)
        await set_variables(session, answers(decision))

    return handle


HANDLERS = {"core": core, "pipelined": pipelined, "core+pipelined": core_pipelined}
