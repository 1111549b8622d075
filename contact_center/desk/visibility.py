"""Who may see which customer on the desk (the issue's rule): supervisors and admins every
customer; an agent the customers they handle (`agents.service.may_see_customer`: key
accounts, past calls or contacts, tasks assigned to them), the customers they linked a call
to, and the customers of the call on their own phone (routed for, or sharing the number)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.accounts import Identity
from contact_center.agents.service import SUPERVISING, may_see_customer
from contact_center.bus import AgentCall
from contact_center.storage.models import CallNote


def customers_of_call(call: AgentCall | None) -> tuple[int, ...]:
    """The customers a call came with: the one routed for first, then the candidates."""
    if call is None or call.customer_id is None:
        return ()
    ranked = [call.customer_id]
    ranked += [c for c in call.candidates if c not in ranked]
    return tuple(ranked)


async def may_see(
    session: AsyncSession, actor: Identity, customer_id: int, current: AgentCall | None = None
) -> bool:
    """`current` is the call on the actor's phone now (from the live state), if any."""
    if actor.role not in SUPERVISING and customer_id in customers_of_call(current):
        return True
    if await may_see_customer(session, actor, customer_id):
        return True
    linked = await session.scalar(
        select(CallNote.id)
        .where(CallNote.user_id == actor.user_id, CallNote.customer_id == customer_id)
        .limit(1)
    )
    return linked is not None


async def visible(session: AsyncSession, actor: Identity, customer_ids: list[int]) -> list[int]:
    """`customer_ids` less those the actor may not see, in the same order."""
    if actor.role in SUPERVISING:
        return customer_ids
    return [c for c in customer_ids if await may_see(session, actor, c)]
