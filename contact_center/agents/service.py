"""The rules of agent commands, on the web side: who may act on whom, which queues an agent
may join, which reasons and numbers are allowed. Each rule passed, the command goes to the
node's bridge (`Commands`); the bridge checks the arguments again and talks AMI.

An agent acts on themself only; a supervisor or admin may pause, resume and log out any
agent. Only the agent logs themself in (to the queues they are a member of)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.accounts import Identity
from contact_center.agents import bridge_side, checks, codes
from contact_center.bus.commands import Commands
from contact_center.errors import AgentCommandFailed, AgentCommandInvalid, AgentForbidden
from contact_center.routing.numbers import normalize
from contact_center.storage.models import (
    Customer,
    Interaction,
    PhoneNumber,
    Queue,
    QueueMembership,
    Task,
    User,
)

log = logging.getLogger(__name__)

SUPERVISING: Final = frozenset({"supervisor", "admin"})


@dataclass(frozen=True, slots=True)
class Agent:
    """A user with a phone: who a command acts on."""

    user_id: int
    username: str
    display_name: str
    interface: str


async def target_agent(
    session: AsyncSession, actor: Identity, user_id: object = None, *, supervised: bool
) -> Agent:
    """The agent a command acts on: `actor` when `user_id` is None or their own id; another
    user only for a supervisor or admin, and only for commands that allow it (`supervised`)."""
    if user_id is None or user_id == actor.user_id:
        wanted = actor.user_id
    else:
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise AgentCommandInvalid("user_id must be a number")
        if actor.role not in SUPERVISING or not supervised:
            raise AgentForbidden("you may act on yourself only")
        wanted = user_id
    user = await session.get(User, wanted)
    if user is None or not user.active:
        raise AgentCommandInvalid(f"no active user {wanted}")
    if not user.interface:
        raise AgentCommandInvalid(f"user {user.username} has no phone")
    return Agent(user.id, user.username, user.display_name, user.interface)


async def queues_of(session: AsyncSession, user_id: int) -> list[str]:
    """The queues a user may log in to (their QueueMembership rows), by name."""
    rows = await session.scalars(
        select(Queue.name)
        .join(QueueMembership, QueueMembership.queue_id == Queue.id)
        .where(QueueMembership.user_id == user_id)
        .order_by(Queue.name)
    )
    return list(rows)


async def _send(commands: Commands, node: str, name: str, args: Mapping[str, str]) -> None:
    reply = await commands.request(node, name, args)
    if not reply.ok:
        raise AgentCommandFailed(reply.error or "failed", reply.message or "the bridge refused")


async def log_in(
    session: AsyncSession, commands: Commands, node: str, agent: Agent, queue: object
) -> None:
    name = checks.queue(queue)
    if name not in await queues_of(session, agent.user_id):
        raise AgentForbidden(f"{agent.username} is not a member of queue {name}")
    args = {"queue": name, "interface": agent.interface, "member_name": agent.display_name}
    await _send(commands, node, bridge_side.QUEUE_ADD, args)
    log.info("%s logged in to %s", agent.username, name)


async def log_out(commands: Commands, node: str, agent: Agent, queues: list[str]) -> None:
    """Log `agent` out of `queues` (their names checked)."""
    for queue in queues:
        args = {"queue": checks.queue(queue), "interface": agent.interface}
        await _send(commands, node, bridge_side.QUEUE_REMOVE, args)
    log.info("%s logged out of %s", agent.username, ", ".join(queues))


async def pause(
    session: AsyncSession, commands: Commands, node: str, agent: Agent, reason: object
) -> str:
    """Pause `agent` in all their queues with the reason `reason` (a code of the pause
    reasons list); the label Asterisk was given."""
    entry = await codes.find_code(session, codes.PAUSE_REASON, reason)
    args = {"interface": agent.interface, "paused": "1", "reason": entry.label}
    await _send(commands, node, bridge_side.QUEUE_PAUSE, args)
    log.info("%s paused: %s", agent.username, entry.code)
    return entry.label


async def resume(commands: Commands, node: str, agent: Agent) -> None:
    await _send(
        commands, node, bridge_side.QUEUE_PAUSE, {"interface": agent.interface, "paused": "0"}
    )
    log.info("%s resumed", agent.username)


async def may_see_customer(session: AsyncSession, actor: Identity, customer_id: int) -> bool:
    """Supervisors and admins see every customer; an agent sees those they handle: their
    key accounts, those whose calls or contacts they had, those with a task assigned to
    them."""
    if actor.role in SUPERVISING:
        return await session.get(Customer, customer_id) is not None
    query = select(Customer.id).where(
        Customer.id == customer_id,
        or_(
            Customer.account_manager_id == actor.user_id,
            exists().where(
                Interaction.customer_id == Customer.id,
                or_(
                    Interaction.agent_id == actor.user_id,
                    Interaction.created_by_id == actor.user_id,
                ),
            ),
            exists().where(Task.customer_id == Customer.id, Task.assigned_to_id == actor.user_id),
        ),
    )
    return await session.scalar(query) is not None


async def click_to_call(
    session: AsyncSession,
    commands: Commands,
    node: str,
    actor: Identity,
    customer_id: object,
    number: object,
    region: str,
) -> str:
    """Ring the actor's phone, then `number`, which must be one of the customer's numbers
    (and the customer one the actor may see). The number dialed (E.164)."""
    if isinstance(customer_id, bool) or not isinstance(customer_id, int):
        raise AgentCommandInvalid("customer_id must be a number")
    if not isinstance(number, str):
        raise AgentCommandInvalid("number must be text")
    agent = await target_agent(session, actor, supervised=False)
    if not await may_see_customer(session, actor, customer_id):
        raise AgentForbidden(f"customer {customer_id} is not one you handle")
    e164 = normalize(number, region)
    if e164 is None:
        raise AgentCommandInvalid("not a valid phone number")
    known = await session.scalar(
        select(PhoneNumber.id).where(
            PhoneNumber.customer_id == customer_id, PhoneNumber.e164 == e164
        )
    )
    if known is None:
        raise AgentCommandInvalid("this number is not one of the customer's")
    args = {"interface": agent.interface, "number": checks.e164(e164)}
    await _send(commands, node, bridge_side.ORIGINATE, args)
    log.info("%s calls customer %s", agent.username, customer_id)
    return e164
