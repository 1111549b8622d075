"""Contacts logged by hand: an e-mail, a meeting or a note, as an interaction without a call.

Such an interaction has no node, linkedid or uniqueid (NULL), is ``complete``, and is the
agent's who logged it (``agent_id`` and ``created_by_id``). It shows in the contact history
beside the calls. The caller commits.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.crm.checks import (
    DISPOSITION_MAX,
    NOTES_MAX,
    SUBJECT_MAX,
    aware,
    code,
    identifier,
    multi_line,
    one_line,
)
from contact_center.crm.views import HistoryEntry
from contact_center.errors import ContactInvalid, CustomerNotFound
from contact_center.storage.models import CHANNEL_VALUES, Customer, Interaction, User, utcnow

log = logging.getLogger(__name__)

HAND_CHANNELS = tuple(channel for channel in CHANNEL_VALUES if channel != "voice")
"""email, meeting, note: a call is logged by the bridge, never by hand."""
CONTACT_OUTCOMES = ("logged", "resolved", "unresolved", "no_response")
DIRECTIONS = ("inbound", "outbound", "internal")
DEFAULT_DIRECTION = {"email": "inbound", "meeting": "inbound", "note": "internal"}
CLOCK_SKEW = dt.timedelta(minutes=5)
"""A contact happened already: ``at`` may be this far ahead of the server's clock, no more."""


async def log_contact(
    session: AsyncSession,
    *,
    customer_id: int,
    channel: str,
    subject: str,
    notes: str,
    at: dt.datetime,
    user_id: int,
    outcome: str = "logged",
    disposition: str | None = None,
    direction: str | None = None,
    now: dt.datetime | None = None,
) -> HistoryEntry:
    """Log a contact with a customer; raises ContactInvalid or CustomerNotFound.

    ``subject`` is one line (at most 200 characters), ``notes`` free text; at least one of
    them must say something. ``at`` is when it happened (aware, not in the future);
    ``direction`` defaults to inbound for an e-mail or a meeting, internal for a note."""
    if channel not in HAND_CHANNELS:
        raise ContactInvalid(f"channel must be one of {', '.join(HAND_CHANNELS)}")
    subject = one_line(subject, "subject", SUBJECT_MAX, ContactInvalid)
    notes = multi_line(notes, "notes", NOTES_MAX, ContactInvalid)
    if not subject and not notes:
        raise ContactInvalid("a contact needs a subject or notes")
    if outcome not in CONTACT_OUTCOMES:
        raise ContactInvalid(f"outcome must be one of {', '.join(CONTACT_OUTCOMES)}")
    disposition = code(disposition, "disposition", DISPOSITION_MAX, ContactInvalid)
    direction = DEFAULT_DIRECTION[channel] if direction is None else direction
    if direction not in DIRECTIONS:
        raise ContactInvalid(f"direction must be one of {', '.join(DIRECTIONS)}")
    at = aware(at, "at", ContactInvalid)
    now = aware(utcnow() if now is None else now, "now", ContactInvalid)
    if at > now + CLOCK_SKEW:
        raise ContactInvalid("at is in the future: log a contact once it happened")
    customer_id = identifier(customer_id, "customer_id", ContactInvalid)
    user_id = identifier(user_id, "user_id", ContactInvalid)

    agent_name = await session.scalar(
        select(User.display_name).where(User.id == user_id, User.active)
    )
    if agent_name is None:
        raise ContactInvalid(f"user_id: no active user {user_id}")
    if await session.scalar(select(Customer.id).where(Customer.id == customer_id)) is None:
        raise CustomerNotFound(customer_id)

    row = Interaction(
        node=None,
        linkedid=None,
        uniqueid=None,
        channel=channel,
        direction=direction,
        customer_id=customer_id,
        caller_number="",
        caller_name="",
        dialed_number="",
        agent_id=user_id,
        created_by_id=user_id,
        started_at=at,
        outcome=outcome,
        complete=True,
        transfers=0,
        disposition=disposition,
        subject=subject,
        notes=notes,
    )
    session.add(row)
    await session.flush()
    log.info(
        "%s contact %s logged for customer %s by user %s", channel, row.id, customer_id, user_id
    )
    return HistoryEntry(
        id=row.id,
        channel=channel,
        direction=direction,
        started_at=at,
        ended_at=None,
        outcome=outcome,
        disposition=disposition,
        subject=subject,
        notes=notes,
        queue=None,
        agent_id=user_id,
        agent_name=agent_name,
        caller_number="",
        route_rule=None,
        route_reason=None,
        wait_seconds=None,
        ring_seconds=None,
        talk_seconds=None,
        hold_seconds=None,
        wrapup_seconds=None,
        transfers=0,
        complete=True,
    )
