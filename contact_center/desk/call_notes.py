"""Notes, a disposition and the linked customer of a call, typed on the desk.

The bridge writes a call's interaction once, when the call ends; the agent types during the
call and in wrap-up. So what they save is kept as a `CallNote` by (node, linkedid, user)
and copied onto the interaction as soon as it exists: at once when it does already, else by
`sweep`, which every web process runs every few seconds (copying is idempotent, so several
processes may do it; each copy reads the note as it is then, never a stale one)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final, cast

from sqlalchemy import CursorResult, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.accounts import Identity
from contact_center.agents import codes
from contact_center.bus import AgentCall
from contact_center.crm.checks import DISPOSITION_MAX, NOTES_MAX, multi_line, one_line
from contact_center.errors import AgentCommandInvalid, DeskForbidden, DeskInvalid, DeskNotYet
from contact_center.storage.models import CallNote, Interaction, utcnow

log = logging.getLogger(__name__)

SWEEP_LIMIT: Final = 200
SWEEP_WINDOW: Final = dt.timedelta(days=1)
"""Notes of calls whose interaction never came (the bridge lost them) stop being looked at."""
ID_MAX: Final = 64


def call_id(node: object, linkedid: object) -> tuple[str, str]:
    return (
        one_line(node, "node", 32, DeskInvalid),
        one_line(linkedid, "linkedid", ID_MAX, DeskInvalid),
    )


async def check_call_is_theirs(
    session: AsyncSession, actor: Identity, current: AgentCall | None, node: str, linkedid: str
) -> None:
    """The call is the actor's: on their phone now, answered by them (its interaction), or
    one they saved notes on already. DeskNotYet for a call that just left their phone and
    is not written yet; DeskForbidden otherwise."""
    if current is not None and (current.node, current.linkedid) == (node, linkedid):
        return
    row = (
        await session.execute(
            select(Interaction.agent_id, Interaction.agent_interface).where(
                Interaction.node == node, Interaction.linkedid == linkedid
            )
        )
    ).first()
    if row is not None:
        if row[0] == actor.user_id or (actor.interface and row[1] == actor.interface):
            return
        raise DeskForbidden("this call is not yours")
    noted = await session.scalar(
        select(CallNote.id).where(
            CallNote.node == node, CallNote.linkedid == linkedid, CallNote.user_id == actor.user_id
        )
    )
    if noted is not None:
        return
    raise DeskNotYet("the call is being saved: save again in a moment (your text is kept)")


async def _note(session: AsyncSession, node: str, linkedid: str, user_id: int) -> CallNote:
    note = await session.scalar(
        select(CallNote).where(
            CallNote.node == node, CallNote.linkedid == linkedid, CallNote.user_id == user_id
        )
    )
    if note is None:
        note = CallNote(node=node, linkedid=linkedid, user_id=user_id, notes="")
        session.add(note)
    return note


async def save_notes(
    session: AsyncSession,
    *,
    node: str,
    linkedid: str,
    user_id: int,
    notes: object,
    disposition: object,
) -> bool:
    """Keep the notes and disposition (a code of the active list, or blank); True when they
    are on the interaction already. The caller checked the call is the user's, and commits."""
    text = multi_line(notes, "notes", NOTES_MAX, DeskInvalid)
    code = one_line(disposition, "disposition", DISPOSITION_MAX, DeskInvalid) or None
    if code is not None:
        try:
            code = (await codes.find_code(session, codes.DISPOSITION, code)).code
        except AgentCommandInvalid as err:
            raise DeskInvalid(f"disposition: no such code {code!r}") from err
    note = await _note(session, node, linkedid, user_id)
    note.notes, note.disposition = text, code
    return await _keep(session, note)


async def link_customer(
    session: AsyncSession, *, node: str, linkedid: str, user_id: int, customer_id: int
) -> bool:
    """The call's number is the customer's: the interaction gets the customer (when it has
    none). True when that is on the interaction already."""
    note = await _note(session, node, linkedid, user_id)
    note.customer_id = customer_id
    return await _keep(session, note)


async def _keep(session: AsyncSession, note: CallNote) -> bool:
    note.updated_at = utcnow()
    note.applied_at = None
    await session.flush()
    return await apply(session, note.id)


def _of_note(note_id: int, column: Any) -> Any:
    return select(column).where(CallNote.id == note_id).scalar_subquery()


async def apply(session: AsyncSession, note_id: int) -> bool:
    """Copy the note as it is now onto its call's interaction; False when there is none yet."""
    node, linkedid = _of_note(note_id, CallNote.node), _of_note(note_id, CallNote.linkedid)
    result = await session.execute(
        update(Interaction)
        .where(Interaction.node == node, Interaction.linkedid == linkedid)
        .values(
            notes=_of_note(note_id, CallNote.notes),
            disposition=_of_note(note_id, CallNote.disposition),
            customer_id=func.coalesce(
                Interaction.customer_id, _of_note(note_id, CallNote.customer_id)
            ),
        ),
        execution_options={"synchronize_session": False},
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    await session.execute(
        update(CallNote)
        .where(CallNote.id == note_id)
        .values(applied_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return True


async def sweep(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Copy the notes whose interaction was written since they were saved; how many."""
    since = utcnow() - SWEEP_WINDOW
    async with sessions() as session, session.begin():
        waiting = await session.scalars(
            select(CallNote.id)
            .where(
                CallNote.applied_at.is_(None),
                CallNote.updated_at > since,
                exists().where(
                    Interaction.node == CallNote.node, Interaction.linkedid == CallNote.linkedid
                ),
            )
            .order_by(CallNote.id)
            .limit(SWEEP_LIMIT)
        )
        done = 0
        for note_id in list(waiting):
            done += await apply(session, note_id)
    if done:
        log.info("desk: notes of %d calls copied onto their interactions", done)
    return done
