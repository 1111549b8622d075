"""The bridge's side of agent commands: each checked again, then one AMI action.

Entry point of the vertical slice is `AgentCommands.handle` (the bridge's command server
calls it); each command is a small method; AMI errors become replies with stable ids.
Asterisk reports the outcome of a queue change as QueueMember* events, so the agent state
that pages show follows from those events, not from these replies.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from contact_center.agents import checks
from contact_center.ami.client import AmiClient
from contact_center.bus.commands import Command, Reply
from contact_center.errors import (
    AgentCommandInvalid,
    AmiActionFailed,
    AmiBadInput,
    AmiError,
)

log = logging.getLogger(__name__)

OUTBOUND_CONTEXT: Final = "cc-outbound"
"""The dialplan context an originated click-to-call runs once the agent answers."""
RING_AGENT_SECONDS: Final = 30
QUEUE_ADD: Final = "queue_add"
QUEUE_REMOVE: Final = "queue_remove"
QUEUE_PAUSE: Final = "queue_pause"
ORIGINATE: Final = "originate"
SPY: Final = "spy"
NAMES: Final = (QUEUE_ADD, QUEUE_REMOVE, QUEUE_PAUSE, ORIGINATE, SPY)
SPY_CONTEXT: Final = "cc-spy"
"""The dialplan context a supervisor's phone runs once answered: ChanSpy on the agent's
phone (dialplans/supervisor.conf), with the extension naming the mode."""
SPY_MODES: Final = ("listen", "whisper", "barge")


class AgentCommands:
    def __init__(self, ami: AmiClient) -> None:
        self._ami = ami
        self._table: dict[str, Callable[[Mapping[str, str]], Awaitable[Reply]]] = {
            QUEUE_ADD: self.queue_add,
            QUEUE_REMOVE: self.queue_remove,
            QUEUE_PAUSE: self.queue_pause,
            ORIGINATE: self.originate,
            SPY: self.spy,
        }

    async def handle(self, command: Command) -> Reply:
        action = self._table.get(command.name)
        if action is None:
            return Reply(False, "unknown_command", f"no command {command.name!r}")
        try:
            reply = await action(command.args)
        except (AgentCommandInvalid, AmiBadInput) as err:
            log.warning("command %s refused: %s", command.name, err)
            return Reply(False, "invalid", str(err))
        except AmiActionFailed as err:
            log.warning("command %s: Asterisk refused: %s", command.name, err.message)
            return Reply(False, "asterisk_refused", err.message)
        except AmiError as err:
            log.warning("command %s: AMI unavailable: %s", command.name, err)
            return Reply(False, "ami_unavailable", str(err))
        log.info("command %s done: %s", command.name, dict(command.args))
        return reply

    async def queue_add(self, args: Mapping[str, str]) -> Reply:
        queue, interface = checks.queue(args.get("queue")), checks.interface(args.get("interface"))
        name = checks.member_name(args.get("member_name"))
        try:
            await self._ami.action(
                "QueueAdd",
                Queue=queue,
                Interface=interface,
                MemberName=name,
                StateInterface=interface,
                Paused="false",
            )
        except AmiActionFailed as err:
            if "already there" not in err.message.lower():
                raise
            return Reply(True, data={"already": True})
        return Reply(True)

    async def queue_remove(self, args: Mapping[str, str]) -> Reply:
        queue, interface = checks.queue(args.get("queue")), checks.interface(args.get("interface"))
        try:
            await self._ami.queue_remove(queue, interface)
        except AmiActionFailed as err:
            if "not there" not in err.message.lower():
                raise
            return Reply(True, data={"already": True})
        return Reply(True)

    async def queue_pause(self, args: Mapping[str, str]) -> Reply:
        """Pause (or resume, paused="0") the interface in one queue, or in all when the
        queue is empty."""
        interface = checks.interface(args.get("interface"))
        queue = args.get("queue") or None
        if queue is not None:
            queue = checks.queue(queue)
        paused = args.get("paused") == "1"
        reason = checks.reason(args.get("reason", "")) if paused else ""
        await self._ami.queue_pause(queue, interface, paused, reason)
        return Reply(True)

    async def originate(self, args: Mapping[str, str]) -> Reply:
        """Ring the agent's phone; once answered, [cc-outbound] dials the number through the
        trunk. The number only travels as a channel variable (checked here, filtered there)."""
        interface = checks.interface(args.get("interface"))
        number = checks.e164(args.get("number"))
        response = await self._ami.action(
            "Originate",
            Channel=interface,
            Context=OUTBOUND_CONTEXT,
            Exten="s",
            Priority="1",
            CallerID=number,
            Variable=f"CC_DIAL_NUMBER={number}",
            Timeout=str(RING_AGENT_SECONDS * 1000),
            Async="true",
        )
        return Reply(True, message=response.get("Message", ""))

    async def spy(self, args: Mapping[str, str]) -> Reply:
        """Ring the supervisor's phone; once answered, [cc-spy] listens to, whispers to or
        barges into the agent's call (ChanSpy). The agent's interface only travels as the
        channel variable CC_SPY_TARGET (checked here, filtered there); the mode is one of
        three extensions."""
        supervisor = checks.interface(args.get("supervisor"))
        agent = checks.interface(args.get("agent"))
        mode = args.get("mode")
        if mode not in SPY_MODES:
            raise AgentCommandInvalid(f"mode must be one of {', '.join(SPY_MODES)}")
        if supervisor == agent:
            raise AgentCommandInvalid("a phone cannot listen to itself")
        response = await self._ami.action(
            "Originate",
            Channel=supervisor,
            Context=SPY_CONTEXT,
            Exten=mode,
            Priority="1",
            CallerID=f"{mode} <{agent.rsplit('/', 1)[-1]}>",
            Variable=f"CC_SPY_TARGET={agent}",
            Timeout=str(RING_AGENT_SECONDS * 1000),
            Async="true",
        )
        return Reply(True, message=response.get("Message", ""))
