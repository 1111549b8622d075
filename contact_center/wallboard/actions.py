"""Supervisor actions from the wallboard, on the web side: the rules, the command to the
agent's node's bridge, and one `supervisor_actions` row per attempt (who, when, what, how it
ended), refused ones included.

Only supervisors and admins act here (an agent is refused before anything reaches the
bridge, and that refusal is recorded too). Listening, whispering and barging ring the
supervisor's own phone first (their user's phone interface): the bridge originates a call to
it into the [cc-spy] dialplan context, which runs ChanSpy on the agent's phone. Pausing,
resuming and logging out use the agents' own commands (`contact_center/agents/service.py`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.accounts import Identity
from contact_center.agents import bridge_side, checks, service
from contact_center.agents.service import Agent
from contact_center.bus import Bus, BusMessage, LiveState
from contact_center.bus.commands import Commands
from contact_center.errors import (
    AgentCommandFailed,
    AgentCommandInvalid,
    AgentError,
    AgentForbidden,
    BridgeUnavailable,
    BusUnavailable,
)
from contact_center.storage.models import Interaction, SupervisorAction, Task, utcnow
from contact_center.wallboard import feed

log = logging.getLogger(__name__)

SUPERVISING: Final = frozenset({"supervisor", "admin"})
SPY_MODES: Final = bridge_side.SPY_MODES
AGENT_ACTIONS: Final = (*SPY_MODES, "pause", "resume", "logout")
WORKLIST_ACTIONS: Final = ("callback", "assign")
ACTIONS: Final = (*AGENT_ACTIONS, *WORKLIST_ACTIONS)
REFRESH: Final = feed.REFRESH
"""Published after a worklist action: every web process reads the worklist again."""


@dataclass(frozen=True, slots=True)
class Done:
    """What an action did, for the page: a message and the data the API returns."""

    message: str
    detail: str = ""


Step = Callable[[AsyncSession, Identity, Agent, str], Awaitable[Done]]


class SupervisorActions:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        commands: Commands,
        live: LiveState,
        node: str,
        bus: Bus,
    ) -> None:
        self._sessions, self._commands, self._live, self._node = sessions, commands, live, node
        self._bus = bus
        self._steps: dict[str, Step] = {
            "listen": self._spy,
            "whisper": self._spy,
            "barge": self._spy,
            "pause": self._pause,
            "resume": self._resume,
            "logout": self._logout,
        }

    async def run(
        self, actor: Identity, action: str, user_id: object, reason: object = None
    ) -> Done:
        """Do `action` on the agent `user_id` as `actor` (`reason`: a pause reason's code).
        Domain errors (AgentError, BridgeUnavailable) reach the caller once the attempt is
        recorded."""
        agent: Agent | None = None
        outcome, detail = "ok", ""
        try:
            step = self._steps.get(action)
            if step is None:
                raise AgentCommandInvalid(f"no action {action!r}")
            if actor.role not in SUPERVISING:
                raise AgentForbidden("only supervisors and admins act on agents from here")
            async with self._sessions() as session:
                agent = await service.target_agent(session, actor, user_id, supervised=True)
                argument = reason if isinstance(reason, str) and reason else action
                done = await step(session, actor, agent, argument)
            detail = done.detail
            return done
        except AgentCommandFailed as err:
            outcome = err.error or "failed"
            raise
        except AgentForbidden:
            outcome = "forbidden"
            raise
        except AgentError:
            outcome = "invalid"
            raise
        except BridgeUnavailable:
            outcome = "bridge_unavailable"
            raise
        finally:
            await self._record(actor, action, agent, detail, outcome)

    async def _node_of(self, agent: Agent) -> str:
        """The node the agent's phone is on (its live state says), else this process's."""
        try:
            state = await self._live.agent_state(agent.interface)
        except (BusUnavailable, ValueError):
            state = None
        return state.node if state is not None else self._node

    async def _spy(self, session: AsyncSession, actor: Identity, agent: Agent, mode: str) -> Done:
        if not actor.interface:
            raise AgentCommandInvalid("you have no phone: an admin sets your phone interface first")
        if actor.interface == agent.interface:
            raise AgentCommandInvalid("that is your own phone")
        args = {"supervisor": actor.interface, "agent": agent.interface, "mode": mode}
        reply = await self._commands.request(await self._node_of(agent), bridge_side.SPY, args)
        if not reply.ok:
            raise AgentCommandFailed(reply.error or "failed", reply.message or "refused")
        return Done(f"{mode}: your phone {actor.interface} rings", mode)

    async def _pause(
        self, session: AsyncSession, actor: Identity, agent: Agent, reason: str
    ) -> Done:
        node = await self._node_of(agent)
        label = await service.pause(session, self._commands, node, agent, reason)
        return Done(f"{agent.display_name}: paused ({label})", label)

    async def _resume(self, session: AsyncSession, actor: Identity, agent: Agent, _: str) -> Done:
        await service.resume(self._commands, await self._node_of(agent), agent)
        return Done(f"{agent.display_name}: resumed")

    async def _logout(self, session: AsyncSession, actor: Identity, agent: Agent, _: str) -> Done:
        try:
            state = await self._live.agent_state(agent.interface)
        except (BusUnavailable, ValueError) as err:
            raise AgentCommandInvalid(f"the agent's queues are not known now: {err}") from err
        if state is None or not state.queues:
            raise AgentCommandInvalid(f"{agent.display_name} is in no queue")
        queues = [q.queue for q in state.queues]
        await service.log_out(self._commands, state.node, agent, queues)
        return Done(f"{agent.display_name}: logged out of {', '.join(queues)}", ",".join(queues))

    async def worklist(
        self, actor: Identity, action: str, interaction_id: object, user_id: object
    ) -> Done:
        """Call back (ring the agent `user_id`, then the caller) or assign (a callback task
        for the agent) the abandoned call `interaction_id`; recorded like every action."""
        agent: Agent | None = None
        outcome, detail = "ok", ""
        call_id = interaction_id if isinstance(interaction_id, int) else None
        try:
            if action not in WORKLIST_ACTIONS:
                raise AgentCommandInvalid(f"no action {action!r}")
            if actor.role not in SUPERVISING:
                raise AgentForbidden("only supervisors and admins work the abandoned calls")
            if call_id is None or isinstance(interaction_id, bool):
                call_id = None
                raise AgentCommandInvalid("interaction_id must be a number")
            async with self._sessions() as session, session.begin():
                call = await session.get(Interaction, call_id)
                if call is None or call.outcome != "abandoned" or not call.caller_e164:
                    call_id = None
                    raise AgentCommandInvalid("no abandoned call with a number to call back")
                agent = await service.target_agent(session, actor, user_id, supervised=True)
                number = checks.e164(call.caller_e164)
                detail = number
                if action == "assign":
                    who = call.caller_name or number
                    session.add(
                        Task(
                            kind="callback",
                            customer_id=call.customer_id,
                            phone_number=number,
                            interaction_id=call.id,
                            queue=call.queue,
                            title=f"Call back {who}"[:200],
                            due_at=utcnow(),
                            assigned_to_id=agent.user_id,
                            created_by_id=actor.user_id,
                        )
                    )
                    done = Done(f"{agent.display_name}: call back {number}", number)
                else:
                    args = {"interface": agent.interface, "number": number}
                    node = await self._node_of(agent)
                    reply = await self._commands.request(node, bridge_side.ORIGINATE, args)
                    if not reply.ok:
                        raise AgentCommandFailed(
                            reply.error or "failed", reply.message or "refused"
                        )
                    done = Done(f"{agent.display_name}: calling {number}", number)
            return done
        except AgentCommandFailed as err:
            outcome = err.error or "failed"
            raise
        except AgentForbidden:
            outcome = "forbidden"
            raise
        except AgentError:
            outcome = "invalid"
            raise
        except BridgeUnavailable:
            outcome = "bridge_unavailable"
            raise
        finally:
            await self._record(actor, action, agent, detail, outcome, call_id)
            if outcome == "ok":
                try:
                    await self._bus.publish(BusMessage(REFRESH, {}))
                except BusUnavailable as err:
                    log.warning("cannot tell the wallboards to read again: %s", err)

    async def _record(
        self,
        actor: Identity,
        action: str,
        agent: Agent | None,
        detail: str,
        outcome: str,
        interaction_id: int | None = None,
    ) -> None:
        async with self._sessions() as session, session.begin():
            session.add(
                SupervisorAction(
                    actor_id=actor.user_id,
                    actor_username=actor.username,
                    action=action[:16],
                    target_user_id=agent.user_id if agent is not None else None,
                    target_interface=agent.interface if agent is not None else None,
                    interaction_id=interaction_id,
                    detail=detail[:200],
                    outcome=outcome,
                )
            )
        log.info(
            "supervisor action %s by %s on %s: %s",
            action,
            actor.username,
            agent.username if agent is not None else "?",
            outcome,
        )
