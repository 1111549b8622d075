"""A small data set whose every figure is worked out by hand (in the tests that use it).

Monday 2 November 2026 (UTC), queues ``support`` (service level 20 s), ``vip`` (10 s) and
``ghost`` (not in the queues table: the default 20 s); agents Anna and Olena; customers
Ala (standard), Bogdan (standard), Cezary (VIP)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contact_center.settings import load_settings
from contact_center.storage.db import create_engine, session_factory, upgrade
from contact_center.storage.models import AgentPeriod, Customer, Interaction, Queue, User

DAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
SINCE, UNTIL = DAY, DAY + dt.timedelta(days=1)


def at(hour: int, minute: int = 0, day: dt.datetime = DAY) -> dt.datetime:
    return day.replace(hour=hour, minute=minute)


@dataclass(frozen=True, slots=True)
class Known:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    anna: int
    olena: int
    ala: int
    bogdan: int
    cezary: int


def _call(number: int, **values: Any) -> Interaction:
    started = values.pop("started_at")
    wait = values.get("wait_seconds")
    answered = values.get("outcome") == "answered"
    defaults: dict[str, Any] = {
        "node": "node1",
        "linkedid": f"known-{number}",
        "uniqueid": f"known-{number}",
        "channel": "voice",
        "direction": "inbound",
        "dialed_number": "+48221000000",
        "started_at": started,
        "answered_at": started + dt.timedelta(seconds=wait or 0) if answered else None,
        "ended_at": started + dt.timedelta(minutes=10),
        "notes": "",
    }
    return Interaction(**(defaults | values))


async def load_known(session: AsyncSession) -> dict[str, int]:
    anna = User(username="anna", display_name="Anna", role="agent", interface="PJSIP/agent-1001")
    olena = User(username="olena", display_name="Olena", role="agent", interface="PJSIP/agent-1002")
    ala = Customer(name="Ala", tier="standard")
    bogdan = Customer(name="Bogdan", tier="standard")
    cezary = Customer(name="Cezary", tier="vip")
    session.add_all(
        [
            anna,
            olena,
            ala,
            bogdan,
            cezary,
            Queue(name="support", display_name="Support", service_level_seconds=20),
            Queue(name="vip", display_name="VIP", service_level_seconds=10),
        ]
    )
    await session.flush()
    support = {"queue": "support"}
    calls = [
        # 1: Ala, answered by Anna in 5 s (within 20 s), talk 100, hold 10, wrap-up 5
        _call(
            1,
            started_at=at(9),
            customer_id=ala.id,
            outcome="answered",
            wait_seconds=5.0,
            talk_seconds=100.0,
            hold_seconds=10.0,
            wrapup_seconds=5.0,
            agent_id=anna.id,
            disposition="resolved",
            route_rule="known-customer",
            **support,
        ),
        # 5: Bogdan, the queue timed out after 120 s (exited)
        _call(
            5,
            started_at=at(8, 50),
            customer_id=bogdan.id,
            outcome="timeout",
            wait_seconds=120.0,
            **support,
        ),
        # 2: Bogdan, answered by Olena after 30 s (late), talk 200, wrap-up 5, one transfer
        _call(
            2,
            started_at=at(9, 10),
            customer_id=bogdan.id,
            outcome="answered",
            wait_seconds=30.0,
            talk_seconds=200.0,
            hold_seconds=0.0,
            wrapup_seconds=5.0,
            transfers=1,
            agent_id=olena.id,
            disposition="escalated",
            route_rule="known-customer",
            **support,
        ),
        # 3: an unknown number hangs up after 3 s: a short abandon
        _call(
            3,
            started_at=at(9, 20),
            caller_e164="+48500000001",
            outcome="abandoned",
            wait_seconds=3.0,
            **support,
        ),
        # 4: Ala hangs up after 40 s: abandoned
        _call(
            4,
            started_at=at(10),
            customer_id=ala.id,
            outcome="abandoned",
            wait_seconds=40.0,
            dialed_number="+48221000999",
            **support,
        ),
        # 6: Cezary (VIP), answered by Anna in 8 s (within 10 s), talk 60, no hold, no wrap-up
        _call(
            6,
            started_at=at(10, 30),
            customer_id=cezary.id,
            outcome="answered",
            wait_seconds=8.0,
            talk_seconds=60.0,
            agent_id=anna.id,
            queue="vip",
            disposition="resolved",
            route_rule="vip",
        ),
        # 7: Ala again, in vip, answered by Anna after 12 s (late for vip), talk 50
        _call(
            7,
            started_at=at(11),
            customer_id=ala.id,
            outcome="answered",
            wait_seconds=12.0,
            talk_seconds=50.0,
            hold_seconds=0.0,
            wrapup_seconds=0.0,
            agent_id=anna.id,
            queue="vip",
            route_rule="vip",
        ),
        # 8: an unknown number, queue ghost (default 20 s), answered by Olena in exactly 20 s
        _call(
            8,
            started_at=at(14),
            caller_e164="+48500000002",
            outcome="answered",
            wait_seconds=20.0,
            talk_seconds=30.0,
            hold_seconds=0.0,
            wrapup_seconds=0.0,
            agent_id=olena.id,
            queue="ghost",
        ),
        # 9: after hours, voicemail: not offered
        _call(9, started_at=at(22), customer_id=ala.id, outcome="voicemail", **support),
        # 10: hung up before the queue: not offered
        _call(10, started_at=at(12), caller_e164="+48500000003", outcome="unqueued", **support),
        # 11: withheld number, the end never seen: offered, unknown
        _call(11, started_at=at(13), outcome="unknown", complete=False, **support),
        # 12: an e-mail logged by hand: not a call
        Interaction(
            channel="email",
            direction="inbound",
            customer_id=ala.id,
            started_at=at(12, 30),
            outcome="logged",
            notes="",
        ),
        # 13: Bogdan calls again 8 days after call 2 (too late to undo its resolution)
        _call(
            13,
            started_at=at(9, 30, DAY + dt.timedelta(days=8)),
            customer_id=bogdan.id,
            outcome="answered",
            wait_seconds=1.0,
            talk_seconds=10.0,
            **support,
        ),
        # 14: Cezary calls again two days after call 6 (call 6 was not resolved)
        _call(
            14,
            started_at=at(9, 0, DAY + dt.timedelta(days=2)),
            customer_id=cezary.id,
            outcome="answered",
            wait_seconds=1.0,
            talk_seconds=10.0,
            queue="vip",
        ),
        # 15: the day before: outside the period
        _call(
            15,
            started_at=at(9, 0, DAY - dt.timedelta(days=1)),
            customer_id=ala.id,
            outcome="answered",
            wait_seconds=1.0,
            talk_seconds=10.0,
            **support,
        ),
    ]
    session.add_all(calls)
    anna_phone = {"node": "node1", "agent_interface": "PJSIP/agent-1001", "user_id": anna.id}
    olena_phone = {"node": "node1", "agent_interface": "PJSIP/agent-1002", "user_id": olena.id}
    session.add_all(
        [
            # Anna: logged in 8:00-16:00, lunch 12:00-12:30, a break 15:00-15:10
            AgentPeriod(kind="logged_in", started_at=at(8), ended_at=at(16), **anna_phone),
            AgentPeriod(
                kind="paused", reason="Lunch", started_at=at(12), ended_at=at(12, 30), **anna_phone
            ),
            AgentPeriod(
                kind="paused", reason="Break", started_at=at(15), ended_at=at(15, 10), **anna_phone
            ),
            # Olena: logged in since 9:00 the day before, still logged in; a break that began
            # the evening before and ended at 0:20
            AgentPeriod(
                kind="logged_in", started_at=at(9, 0, DAY - dt.timedelta(days=1)), **olena_phone
            ),
            AgentPeriod(
                kind="paused",
                reason="Break",
                started_at=at(23, 0, DAY - dt.timedelta(days=1)),
                ended_at=at(0, 20),
                **olena_phone,
            ),
        ]
    )
    await session.flush()
    return {
        "anna": anna.id,
        "olena": olena.id,
        "ala": ala.id,
        "bogdan": bogdan.id,
        "cezary": cezary.id,
    }


@pytest.fixture
async def known(database_url: str) -> AsyncIterator[Known]:
    settings = load_settings({}, database_url=database_url)
    engine = await asyncio.to_thread(create_engine, settings)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            ids = await load_known(session)
        yield Known(engine, sessions, **ids)
    finally:
        await engine.dispose()
