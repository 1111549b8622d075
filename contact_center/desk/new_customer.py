"""An unknown caller on the desk: a new customer with the caller's number, or the number
added to an existing customer. The caller commits."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.crm.checks import one_line
from contact_center.errors import DeskInvalid
from contact_center.routing.numbers import normalize
from contact_center.storage.models import LANGUAGE_VALUES, Customer, PhoneNumber

log = logging.getLogger(__name__)

NAME_MAX = 200
NUMBER_MAX = 40
LABEL = "main"


def e164_of(number: object, region: str) -> str:
    text = one_line(number, "number", NUMBER_MAX, DeskInvalid)
    e164 = normalize(text, region) if text else None
    if e164 is None:
        raise DeskInvalid("number: not a valid phone number")
    return e164


async def create_customer(
    session: AsyncSession,
    *,
    name: object,
    company: object,
    number: object,
    language: object,
    region: str,
    user_id: int,
) -> int:
    """A new standard customer with one number; their id."""
    name = one_line(name, "name", NAME_MAX, DeskInvalid)
    if not name:
        raise DeskInvalid("name: a customer needs a name")
    company = one_line(company, "company", NAME_MAX, DeskInvalid) or None
    if language not in LANGUAGE_VALUES:
        raise DeskInvalid(f"language must be one of {', '.join(LANGUAGE_VALUES)}")
    e164 = e164_of(number, region)
    customer = Customer(
        name=name, company=company, tier="standard", language=str(language), tags=[], notes=""
    )
    customer.phone_numbers.append(PhoneNumber(e164=e164, label=LABEL))
    session.add(customer)
    await session.flush()
    log.info("customer %s added with %s by user %s", customer.id, e164, user_id)
    return customer.id


async def add_number(session: AsyncSession, customer_id: int, number: object, region: str) -> str:
    """The number is (now) one of the customer's; the E.164 form."""
    e164 = e164_of(number, region)
    known = await session.scalar(
        select(PhoneNumber.id).where(
            PhoneNumber.customer_id == customer_id, PhoneNumber.e164 == e164
        )
    )
    if known is None:
        session.add(PhoneNumber(customer_id=customer_id, e164=e164, label=LABEL))
        await session.flush()
        log.info("number %s added to customer %s", e164, customer_id)
    return e164
