"""Notes, a disposition and a linked customer typed on the desk reach the call's
interaction, whether it was written before or after they were saved."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from contact_center.accounts import Identity
from contact_center.agents import codes
from contact_center.bus import AgentCall
from contact_center.desk import call_notes
from contact_center.errors import DeskForbidden, DeskInvalid, DeskNotYet
from contact_center.storage.models import CallNote, Interaction
from tests.crm.conftest import NOW, Database, Seed, call


def identity(user_id: int, interface: str | None = "PJSIP/agent-1001") -> Identity:
    return Identity(
        user_id=user_id,
        username="anowak",
        display_name="Anna Nowak",
        role="agent",
        language="pl",
        interface=interface,
        session_id=1,
        csrf_token="x",
    )


def ringing(linkedid: str, customer_id: int | None = None) -> AgentCall:
    return AgentCall(
        agent_interface="PJSIP/agent-1001",
        state="ringing",
        at=NOW.timestamp(),
        node="node1",
        linkedid=linkedid,
        uniqueid=linkedid,
        customer_id=customer_id,
    )


async def interaction(database: Database, linkedid: str) -> Interaction:
    async with database.sessions() as session:
        row = await session.scalar(select(Interaction).where(Interaction.linkedid == linkedid))
    assert row is not None
    return row


async def test_notes_saved_during_the_call_reach_the_interaction_written_later(
    database: Database, seed: Seed
) -> None:
    async with database.sessions() as session, session.begin():
        applied = await call_notes.save_notes(
            session,
            node="node1",
            linkedid="1700.1",
            user_id=seed.anna,
            notes="Wants a <b>refund</b>; 'quoted'\nsecond line",
            disposition="callback_needed",
        )
        assert applied is False  # no interaction yet
    assert await call_notes.sweep(database.sessions) == 0
    async with database.sessions() as session, session.begin():
        session.add(call(None, NOW, "1700.1", agent_id=seed.anna))
    assert await call_notes.sweep(database.sessions) == 1
    row = await interaction(database, "1700.1")
    assert row.notes == "Wants a <b>refund</b>; 'quoted'\nsecond line"
    assert row.disposition == "callback_needed"
    assert await call_notes.sweep(database.sessions) == 0  # applied once

    # in wrap-up, the row exists: saved on it at once
    async with database.sessions() as session, session.begin():
        assert await call_notes.save_notes(
            session,
            node="node1",
            linkedid="1700.1",
            user_id=seed.anna,
            notes="Refund agreed",
            disposition="",
        )
    row = await interaction(database, "1700.1")
    assert (row.notes, row.disposition) == ("Refund agreed", None)


async def test_linking_the_number_sets_the_customer_only_when_the_call_had_none(
    database: Database, seed: Seed
) -> None:
    async with database.sessions() as session, session.begin():
        session.add(call(None, NOW, "1700.2", agent_id=seed.anna))
        session.add(call(seed.zaneta, NOW, "1700.3", agent_id=seed.anna))
    async with database.sessions() as session, session.begin():
        for linkedid in ("1700.2", "1700.3"):
            await call_notes.link_customer(
                session, node="node1", linkedid=linkedid, user_id=seed.anna, customer_id=seed.acme
            )
    assert (await interaction(database, "1700.2")).customer_id == seed.acme
    assert (await interaction(database, "1700.3")).customer_id == seed.zaneta


@pytest.mark.parametrize(
    ("notes", "disposition", "why"),
    [
        ("ok", "no_such_code", "no such code"),
        ("ok", "Resolved", "no such code"),
        ("nul \x00 inside", "", "control characters"),
        ("x" * 20_001, "", "longer than"),
        ("ok", "two\nlines", "one line"),
    ],
)
async def test_bad_notes_or_dispositions_are_refused(
    database: Database, seed: Seed, notes: str, disposition: str, why: str
) -> None:
    async with database.sessions() as session, session.begin():
        with pytest.raises(DeskInvalid, match=why):
            await call_notes.save_notes(
                session,
                node="node1",
                linkedid="1700.4",
                user_id=seed.anna,
                notes=notes,
                disposition=disposition,
            )


async def test_a_retired_disposition_is_refused(database: Database, seed: Seed) -> None:
    async with database.sessions() as session, session.begin():
        await codes.save_code(session, codes.DISPOSITION, "resolved", "Resolved", active=False)
    async with database.sessions() as session, session.begin():
        with pytest.raises(DeskInvalid):
            await call_notes.save_notes(
                session,
                node="node1",
                linkedid="1700.5",
                user_id=seed.anna,
                notes="",
                disposition="resolved",
            )


async def test_whose_call_it_is(database: Database, seed: Seed) -> None:
    anna, olena = identity(seed.anna), identity(seed.olena, "PJSIP/agent-1002")
    async with database.sessions() as session, session.begin():
        session.add(call(None, NOW, "1700.6", agent_id=seed.olena))
    async with database.sessions() as session:
        # on her phone now
        await call_notes.check_call_is_theirs(session, anna, ringing("1700.9"), "node1", "1700.9")
        # another agent's call
        with pytest.raises(DeskForbidden):
            await call_notes.check_call_is_theirs(session, anna, None, "node1", "1700.6")
        await call_notes.check_call_is_theirs(session, olena, None, "node1", "1700.6")
        # gone from her phone, not written yet
        with pytest.raises(DeskNotYet):
            await call_notes.check_call_is_theirs(session, anna, None, "node1", "1700.9")
        with pytest.raises(DeskNotYet):
            await call_notes.check_call_is_theirs(
                session, anna, ringing("1700.8"), "node2", "1700.9"
            )
    # once she saved notes on it, it stays hers until it is written
    async with database.sessions() as session, session.begin():
        await call_notes.save_notes(
            session, node="node1", linkedid="1700.9", user_id=seed.anna, notes="a", disposition=""
        )
    async with database.sessions() as session:
        await call_notes.check_call_is_theirs(session, anna, None, "node1", "1700.9")
        count = len((await session.scalars(select(CallNote))).all())
    assert count == 1


async def test_old_notes_of_calls_never_written_are_left_alone(
    database: Database, seed: Seed
) -> None:
    async with database.sessions() as session, session.begin():
        session.add(
            CallNote(
                node="node1",
                linkedid="1700.7",
                user_id=seed.anna,
                notes="late",
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
            )
        )
        session.add(call(None, NOW, "1700.7", agent_id=seed.anna))
    assert await call_notes.sweep(database.sessions) == 0
    assert (await interaction(database, "1700.7")).notes == ""
