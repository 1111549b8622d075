"""Routing service: normalize the caller's number, look the caller up, apply the rules.

It always answers: if the database is slow or down the call goes to the default queue.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from contact_center.routing.numbers import normalize
from contact_center.routing.rules import CallerRecord, RouteDecision, decide
from contact_center.settings import Settings
from contact_center.storage.models import Customer, PhoneNumber, User

log = logging.getLogger(__name__)


async def lookup_caller(session: AsyncSession, e164: str) -> list[CallerRecord]:
    """Every customer the number belongs to (usually one), with their key-account manager."""
    manager = aliased(User)
    rows = await session.execute(
        select(
            Customer.id,
            Customer.name,
            Customer.tier,
            Customer.language,
            Customer.overdue_balance,
            manager.display_name,
        )
        .join(PhoneNumber, PhoneNumber.customer_id == Customer.id)
        .outerjoin(manager, manager.id == Customer.account_manager_id)
        .where(PhoneNumber.e164 == e164)
        .order_by(Customer.id)
    )
    return [CallerRecord(*row) for row in rows]


class Router:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._region = settings.default_region
        self._default_queue = settings.default_queue
        self._timeout = settings.agi_route_timeout * 0.6

    async def route(self, caller_raw: str, *, uniqueid: str = "") -> RouteDecision:
        e164 = normalize(caller_raw, self._region)
        if e164 is None:
            return decide(None, (), default_queue=self._default_queue)
        try:
            async with asyncio.timeout(self._timeout), self._sessions() as session:
                records = await lookup_caller(session, e164)
        except (TimeoutError, SQLAlchemyError, OSError) as err:
            log.warning(
                "uniqueid=%s customer lookup failed (%s): default queue", uniqueid, err or "timeout"
            )
            return RouteDecision(self._default_queue, 0, "fallback", "Customer lookup unavailable")
        return decide(e164, records, default_queue=self._default_queue)
