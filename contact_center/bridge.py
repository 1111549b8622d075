"""The bridge to one Asterisk node: AMI events in, FastAGI routing answers out.

One bridge per node. It follows calls with the call tracker, logs each finished call once,
and keeps the node's status where every process can read it.

Nothing is lost on the way: every event of a call in progress goes to the node's journal
(contact_center/storage/journal.py) before anything else happens to it, and leaves it only
once the call is in the database. A restarted bridge replays the journal; after every
(re)connect it asks Asterisk which channels are still up and closes, marked incomplete, the
calls that ended while it could not see them. The database keeps one row per
(node, linkedid), so a call written again after a crash is still written once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.agents.bridge_side import AgentCommands
from contact_center.agi.protocol import AgiRequest
from contact_center.agi.server import AgiServer, AgiSession
from contact_center.ami import events as ev
from contact_center.ami.client import AmiClient
from contact_center.bus import LiveState, NodeStatus, Notifier
from contact_center.bus.commands import Command, Commands, Reply
from contact_center.calls.agent_phones import AgentPhones
from contact_center.calls.agents import LOGGED_OUT, AgentState, AgentStates
from contact_center.calls.queue_watch import QueueWatch
from contact_center.calls.tracker import CallTracker, FinishedCall
from contact_center.errors import AgiHangup, AmiError, BusUnavailable
from contact_center.health.metrics import Metrics
from contact_center.routing.agi_route import route_call
from contact_center.routing.service import Router
from contact_center.settings import Settings
from contact_center.storage.agent_periods import AgentPeriodWriter
from contact_center.storage.interactions import save_calls
from contact_center.storage.journal import Journal, read_journal
from contact_center.storage.models import Queue

log = logging.getLogger(__name__)

EVENT_BACKLOG = 10_000
HEARTBEAT_SECONDS = 2.0
RETRY_MAX_SECONDS = 10.0
WRAPUP_TICK_SECONDS = 0.5
WRITE_BATCH = 200
"""Most finished calls written in one transaction."""
PROGRESS_TICK_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 5.0
"""Most the event consumer waits for a read of the database after a (re)connect."""
ERROR_KINDS = ("database_write", "bus_publish", "ami_resync", "routing", "routing_timeout")


class Bridge:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        live: LiveState,
        commands: Commands | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics = metrics or Metrics()
        self.events_ingested = 0
        """AMI events taken by the consumer (a plain int: cheap on the hot path)."""
        self.calls_logged = 0
        self.errors = dict.fromkeys(ERROR_KINDS, 0)
        self._stalled_since: float | None = None
        self._sessions = sessions
        self._notifier = notifier
        self._live = live
        self.events: asyncio.Queue[ev.AmiEvent] = asyncio.Queue(EVENT_BACKLOG)
        self.ami = AmiClient(settings, self.events)
        self.tracker = CallTracker(settings.node, region=settings.default_region)
        self.journal = Journal(settings.state_dir / "journal" / f"{settings.node}.journal")
        self._pending: asyncio.Queue[FinishedCall] = asyncio.Queue()
        self.agent_phones = AgentPhones(settings.node)
        self.queues = QueueWatch()
        self.agents = AgentStates(settings.node)
        self.agent_periods = AgentPeriodWriter(sessions)
        self._commands = commands
        self.agent_commands = AgentCommands(self.ami)
        self.router = Router(sessions, settings, live)
        self.agi = AgiServer(
            settings.agi_host,
            settings.agi_port,
            {"route": self._route},
            handler_timeout=settings.agi_route_timeout,
        )
        metrics.add_source(self.metric_families)

    async def start(self) -> None:
        """Replay the journal, then bind the FastAGI port: a port in use fails here."""
        await self._recover()
        await self.agi.start()
        log.info(
            "bridge for node %s: FastAGI on %s:%s, AMI %s:%s",
            self.settings.node,
            self.settings.agi_host,
            self.agi.port,
            self.settings.ami_host,
            self.settings.ami_port,
        )

    async def _recover(self) -> None:
        """The calls of the journal: finished ones go to the database, open ones are
        followed again (or closed at the first connect if Asterisk no longer has them)."""
        recovered = await asyncio.to_thread(read_journal, self.journal.path)
        finished = 0
        for event in recovered.events:
            call = self.tracker.handle(event)
            if call is not None:
                self._pending.put_nowait(call)
                finished += 1
        if recovered.events:
            log.warning(
                "node %s: journal replayed, %d events of %d calls: %d finished, %d still open",
                self.settings.node,
                len(recovered.events),
                recovered.calls,
                finished,
                self.tracker.active,
            )
        await self.journal.start(recovered.events)

    async def run(self) -> None:
        """Run until cancelled: AMI link, event consumer, database writer, heartbeat, rulebook
        refresh. Call `start` first."""
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self.ami.run(), name="ami")
                tasks.create_task(self._consume(), name="events")
                tasks.create_task(self._write(), name="writer")
                tasks.create_task(self.agent_periods.run(), name="agent-periods")
                tasks.create_task(self._heartbeat(), name="heartbeat")
                tasks.create_task(self.router.keep_fresh(), name="rulebook")
                tasks.create_task(self._wrapup_clock(), name="wrap-up")
                tasks.create_task(self._watch_progress(), name="progress")
                if self._commands is not None:
                    tasks.create_task(
                        self._commands.serve(self.settings.node, self.handle_command),
                        name="commands",
                    )
        finally:
            await self.agi.close()
            await self.ami.close()
            await self.journal.close()
            await self.router.aclose()

    async def _consume(self) -> None:
        tracker, journal, pending = self.tracker, self.journal, self._pending
        while True:
            event = await self.events.get()
            self.events_ingested += 1
            if isinstance(event, ev.AmiConnected):
                await self._publish_status()
                await self._resync_queues()
                await self._resync_calls()
                continue
            if isinstance(event, ev.AmiDisconnected):
                await self._publish_status()
                continue
            if self.queues.handle(event, time.time()):
                await self._publish_queues()
            for agent in self.agents.handle(event, time.time()):
                await self._agent_state(agent)
            finished = tracker.handle(event)
            channel = getattr(event, "channel", None)
            if channel is None:
                continue
            call = tracker.call(channel.linkedid) if finished is None else finished
            if call is None:
                continue
            journal.event(channel.linkedid, event)
            for change in self.agent_phones.follow(call, time.time()):
                await self._notifier.agent_call(change)
            if finished is not None:
                pending.put_nowait(finished)

    async def _write(self) -> None:
        """Write finished calls in the order they finished, as many at a time as are
        waiting (one transaction each batch); the journal keeps each call until its row is
        committed, so the queue in memory may grow while the database is down."""
        while True:
            batch = [await self._pending.get()]
            while len(batch) < WRITE_BATCH and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            ids = await self._log_calls(batch)
            for call, interaction_id in zip(batch, ids, strict=True):
                self.journal.committed(call.linkedid)
                self.calls_logged += 1
                if interaction_id is None:
                    log.info("linkedid=%s was already logged", call.linkedid)
                    continue
                log.info(
                    "linkedid=%s logged as interaction %s: %s in %s by %s",
                    call.linkedid,
                    interaction_id,
                    call.outcome,
                    call.queue,
                    call.agent_interface,
                )
                await self._notifier.interaction_logged(interaction_id, call)

    async def _log_calls(self, calls: list[FinishedCall]) -> list[int | None]:
        """Write the calls; while the database is down, keep trying (they wait in order)."""
        delay = 0.5
        while True:
            try:
                async with self._sessions() as session, session.begin():
                    return await save_calls(session, calls)
            except (SQLAlchemyError, OSError) as err:
                self.errors["database_write"] += 1
                log.error(
                    "linkedid=%s and %d more: cannot log the calls yet (%s); retrying in %.1fs",
                    calls[0].linkedid,
                    len(calls) - 1,
                    err,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    async def _resync_calls(self) -> None:
        """Asterisk's channels now: calls that ended while the link was down (or the bridge
        was away) are closed, calls still up are marked as seen with a gap (see
        `CallTracker.resync`)."""
        try:
            channels = await self.ami.action_list("CoreShowChannels")
        except AmiError as err:
            self.errors["ami_resync"] += 1
            log.warning("cannot list the channels after connecting: %s", err)
            return
        for call in self.tracker.resync(channels, time.time()):
            log.warning(
                "linkedid=%s ended while the bridge could not see it: logged as incomplete",
                call.linkedid,
            )
            for change in self.agent_phones.follow(call, time.time()):
                await self._notifier.agent_call(change)
            self._pending.put_nowait(call)
        await self._publish_status()

    async def _resync_queues(self) -> None:
        """Who waits where, asked of Asterisk after every (re)connect."""
        try:
            entries = await self.ami.action_list("QueueStatus")
        except AmiError as err:
            self.errors["ami_resync"] += 1
            log.warning("cannot read the queues' status after connecting: %s", err)
            return
        self.queues.resync(entries, time.time())
        await self._publish_queues()
        await self._read_wrapups()
        for agent in self.agents.resync(entries, time.time()):
            await self._agent_state(agent)
        await self._forget_stale_agents()

    async def _publish_queues(self) -> None:
        try:
            await self._notifier.queues(self.settings.node, self.queues.snapshot())
        except BusUnavailable as err:
            self.errors["bus_publish"] += 1
            log.warning("cannot publish the queues of node %s: %s", self.settings.node, err)

    async def _publish_status(self) -> None:
        status = NodeStatus(
            self.settings.node, self.ami.connected, self.tracker.active, time.time()
        )
        try:
            await self._live.put_node(status)
        except BusUnavailable as err:
            self.errors["bus_publish"] += 1
            log.warning("cannot publish the status of node %s: %s", status.node, err)

    async def _forget_stale_agents(self) -> None:
        """Agent phones of this node still in the live state (kept there by a bridge that
        stopped) but in no queue of Asterisk's now: logged out, so no page shows them in."""
        try:
            kept = await self._live.agent_states()
        except (BusUnavailable, ValueError) as err:
            log.warning("cannot read the agents' states kept: %s", err)
            return
        now = time.time()
        for state in kept:
            if state.node != self.settings.node:
                continue
            if not self.agents.state(state.agent_interface, now).logged_in:
                log.info("%s is in no queue any more: logged out", state.agent_interface)
                await self._agent_state(
                    AgentState(state.agent_interface, state.node, LOGGED_OUT, now)
                )

    async def _agent_state(self, agent: AgentState) -> None:
        """Publish an agent phone's new state; its logged-in and pause stretches are kept
        for the reports (``agent_periods``)."""
        self.agent_periods.follow(agent)
        await self._notifier.agent_state(agent)

    async def _read_wrapups(self) -> None:
        """Each queue's wrap-up time (Asterisk does not report a queue's wrapuptime). Bounded
        in time: the event consumer waits for it, and a database that does not answer must
        not hold every event back (the times already known stay)."""
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS), self._sessions() as session:
                rows = await session.execute(select(Queue.name, Queue.wrapup_seconds))
                self.agents.wrapup = {name: seconds for name, seconds in rows}
        except (SQLAlchemyError, OSError, TimeoutError) as err:
            log.warning("cannot read the queues' wrap-up times: %s", err)

    async def handle_command(self, command: Command) -> Reply:
        """A command from a web process (queue log-in/out, pause, click-to-call)."""
        return await self.agent_commands.handle(command)

    async def _wrapup_clock(self) -> None:
        """End wrap-ups on time: Asterisk sends no event when a member's wrapuptime ends."""
        while True:
            await asyncio.sleep(WRAPUP_TICK_SECONDS)
            for agent in self.agents.expire(time.time()):
                await self._agent_state(agent)

    async def _heartbeat(self) -> None:
        while True:
            await self._publish_status()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    # --- health and metrics ---------------------------------------------------------------

    async def _route(self, request: AgiRequest, session: AgiSession) -> None:
        """The FastAGI route, timed for the routing histogram; failures and answers cut by
        the deadline are counted (a caller who hangs up is neither)."""
        started = time.perf_counter()
        try:
            await route_call(self.router, request, session)
        except AgiHangup:
            raise
        except asyncio.CancelledError:
            self.errors["routing_timeout"] += 1
            raise
        except Exception:
            self.errors["routing"] += 1
            raise
        finally:
            self.metrics.routing_seconds.observe(time.perf_counter() - started)

    async def _watch_progress(self) -> None:
        """Notice a consumer that takes no event while events wait (it is stuck on
        something that never returns): `stalled_seconds` grows, and liveness fails."""
        last = self.events_ingested
        while True:
            await asyncio.sleep(PROGRESS_TICK_SECONDS)
            now = time.monotonic()
            if self.events_ingested == last and not self.events.empty():
                if self._stalled_since is None:
                    self._stalled_since = now
            else:
                self._stalled_since = None
            last = self.events_ingested

    @property
    def stalled_seconds(self) -> float:
        """How long events have waited while the consumer took none (0 when it keeps up)."""
        since = self._stalled_since
        return 0.0 if since is None else time.monotonic() - since

    async def metric_families(self) -> Iterable[Metric]:
        """This bridge's figures now, read at scrape time (see `health.metrics`)."""
        node = self.settings.node

        def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, text, labels=["node"])
            family.add_metric([node], value)
            return family

        def counter(name: str, text: str, value: float) -> CounterMetricFamily:
            family = CounterMetricFamily(name, text, labels=["node"])
            family.add_metric([node], value)
            return family

        errors = CounterMetricFamily(
            "cc_errors", "Errors by kind (each one is also logged).", labels=["node", "kind"]
        )
        for kind, count in self.errors.items():
            errors.add_metric([node, kind], count)
        waiting = GaugeMetricFamily(
            "cc_queue_callers_waiting", "Callers waiting in a queue now.", labels=["node", "queue"]
        )
        longest = GaugeMetricFamily(
            "cc_queue_longest_wait_seconds",
            "How long the queue's oldest caller has waited.",
            labels=["node", "queue"],
        )
        now = time.time()
        for queue, snapshot in sorted(self.queues.snapshot().items()):
            waiting.add_metric([node, queue], snapshot.waiting)
            oldest = snapshot.oldest_since
            longest.add_metric([node, queue], 0.0 if oldest is None else max(now - oldest, 0.0))
        return [
            counter("cc_ami_events", "AMI events ingested by the bridge.", self.events_ingested),
            counter(
                "cc_calls_logged", "Finished calls written to the database.", self.calls_logged
            ),
            gauge("cc_ami_connected", "1 while the AMI link is up.", self.ami.connected),
            gauge(
                "cc_calls_active", "Calls in progress followed by the bridge.", self.tracker.active
            ),
            gauge(
                "cc_calls_unwritten",
                "Finished calls waiting for the database.",
                self._pending.qsize(),
            ),
            gauge("cc_event_backlog", "AMI events waiting for the consumer.", self.events.qsize()),
            gauge("cc_agi_connections", "FastAGI connections open now.", self.agi.connections),
            gauge("cc_journal_writing", "1 while the journal's writer runs.", self.journal.writing),
            errors,
            waiting,
            longest,
        ]
