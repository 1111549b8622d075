"""The wallboard's feed in one web process: keeps the board fresh and pushes what changed.

It listens to the bus for what changes the board (`agent.state`, `agent.call`,
`queues.changed`, `interaction_logged`), then reads the live state again (memory or Redis:
what every bridge last said, so every web process shows the same) and, after a logged call,
today's figures from the database. Changes that come close together are read once
(`SETTLE_SECONDS`); the board is also rebuilt every `TICK_SECONDS`, since a caller who waits
past a threshold turns a tile amber without any event, and the figures are read again every
`FIGURES_SECONDS` whatever happens (a new day, a queue renamed).

Each changed tile or agent row is rendered once per language and the same text goes to
every wallboard of that language; a wallboard that falls `CLIENT_BACKLOG` frames behind is
dropped (its socket closed with 1013; the page reconnects), never waited for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Final

import jinja2
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contact_center.accounts import Identity
from contact_center.bus import Bus, LiveState
from contact_center.bus.agent_call import TOPIC as AGENT_CALL
from contact_center.bus.notifier import QUEUES_CHANGED
from contact_center.calls.agents import TOPIC as AGENT_STATE
from contact_center.errors import BusUnavailable
from contact_center.wallboard import render
from contact_center.wallboard.board import Board, build_board
from contact_center.wallboard.sources import (
    Directory,
    Figures,
    FiguresReader,
    Live,
    local_midnight,
    no_figures,
    read_directory,
    read_live,
)

log = logging.getLogger(__name__)

LIVE_TOPICS: Final = frozenset({AGENT_STATE, AGENT_CALL, QUEUES_CHANGED})
REFRESH: Final = "wallboard.refresh"
"""Published after an edit the board shows (thresholds, a worklist action): read at once."""
FIGURES_TOPICS: Final = frozenset({"interaction_logged", REFRESH})
SETTLE_SECONDS: Final = 0.05
"""After a change, wait this long for the next before reading (a call's events come in
bursts): the board is at most this late, and read once per burst."""
TICK_SECONDS: Final = 1.0
FIGURES_SECONDS: Final = 60.0
FIGURES_MIN_SECONDS: Final = 0.4
"""Today's figures are read at most this often (at 10 calls/s a call is logged every 0.1 s):
a logged call is on the board within this, plus the read, plus the settle time."""
CLIENT_BACKLOG: Final = 32
FRESH_TIMEOUT: Final = 5.0
TRY_AGAIN_LATER: Final = 1013
BUS_RETRY_SECONDS: Final = (0.5, 1.0, 2.0, 5.0)


@dataclass(eq=False)
class BoardClient:
    """One connected wallboard."""

    identity: Identity
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(CLIENT_BACKLOG))
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int = 1000

    @property
    def language(self) -> str:
        return self.identity.language

    def offer(self, frame: str) -> None:
        if self.stopped.is_set():
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("wallboard: a board of %s fell behind: dropped", self.identity.username)
            self.stop(TRY_AGAIN_LATER)

    def stop(self, code: int) -> None:
        if not self.stopped.is_set():
            self.close_code = code
            self.stopped.set()


class WallboardFeed:
    def __init__(
        self,
        *,
        bus: Bus,
        live: LiveState,
        sessions: async_sessionmaker[AsyncSession],
        env: jinja2.Environment,
        timezone: str,
        figures: FiguresReader = no_figures,
    ) -> None:
        self._bus, self._live, self._sessions = bus, live, sessions
        self._env, self._timezone, self._read_figures = env, timezone, figures
        self.clients: set[BoardClient] = set()
        self.board: Board | None = None
        self.figures = Figures()
        self.directory = Directory({}, {})
        self.built_at = 0.0
        """When `board` was built (time.time())."""
        self.version = 0
        """Grows with every board that differs from the last one."""
        self._changed = asyncio.Event()
        self._figures_stale = True
        self._figures_forced = False
        self._figures_read_at = 0.0
        self._next_build: asyncio.Future[None] | None = None

    # --- running -----------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._listen(), name="wallboard-listener")
            tasks.create_task(self._keep_fresh(), name="wallboard-refresh")

    async def fresh(self) -> Board:
        """A board built after this call, with the database read again (for a page that
        is opened: a queue or agent added a moment ago is on it); the board there is if none
        comes within `FRESH_TIMEOUT` seconds."""
        if self._next_build is None:
            self._next_build = asyncio.get_running_loop().create_future()
        waiter = self._next_build
        self._figures_forced = True
        self.changed(figures=True)
        try:
            async with asyncio.timeout(FRESH_TIMEOUT):
                await asyncio.shield(waiter)
        except TimeoutError:
            log.warning("wallboard: no board built in %s s: showing the last one", FRESH_TIMEOUT)
        return self.board or Board((), ())

    def changed(self, *, figures: bool = False) -> None:
        """Something changed: read again (and, with `figures`, today's figures too)."""
        if figures:
            self._figures_stale = True
        self._changed.set()

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                async for message in self._bus.subscribe():
                    if failures:
                        log.info("wallboard: bus back")
                        failures = 0
                        self.changed(figures=True)
                    if message.topic in LIVE_TOPICS:
                        self.changed()
                    elif message.topic in FIGURES_TOPICS:
                        if message.topic == REFRESH:  # an edit: read at once
                            self._figures_forced = True
                        self.changed(figures=True)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the listener must outlive any bus failure
                if failures == 0:
                    log.warning("wallboard: bus unavailable (%s): the boards stand still", err)
                pause = BUS_RETRY_SECONDS[min(failures, len(BUS_RETRY_SECONDS) - 1)]
                failures += 1
                await asyncio.sleep(pause)

    async def _keep_fresh(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("wallboard: the board could not be built")
            wait = TICK_SECONDS
            if self._figures_stale:  # read when allowed, even if nothing else changes
                wait = max(0.0, self._figures_read_at + FIGURES_MIN_SECONDS - time.time())
            try:
                async with asyncio.timeout(wait):
                    await self._changed.wait()
                await asyncio.sleep(SETTLE_SECONDS)
            except TimeoutError:
                pass

    # --- building ------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read what changed, build the board and push the difference."""
        waiters, self._next_build = self._next_build, None
        try:
            await self._refresh()
        finally:
            if waiters is not None and not waiters.done():
                waiters.set_result(None)

    async def _refresh(self) -> None:
        self._changed.clear()
        now = time.time()
        since_read = now - self._figures_read_at
        if (
            self._figures_forced
            or (self._figures_stale and since_read >= FIGURES_MIN_SECONDS)
            or since_read >= FIGURES_SECONDS
        ):
            self._figures_forced = False
            await self._read_database(now)
        try:
            live = await read_live(self._live)
        except (BusUnavailable, ValueError) as err:
            log.warning("wallboard: cannot read the live state: %s", err)
            if self.board is None:  # the page shows today's figures meanwhile
                self.publish(self._build(Live({}, [], {}), time.time()))
            return
        self.publish(self._build(live, time.time()))

    async def _read_database(self, now: float) -> None:
        self._figures_stale = False
        self._figures_read_at = now
        moment = dt.datetime.fromtimestamp(now, dt.UTC)
        try:
            self.directory = await read_directory(self._sessions)
            async with self._sessions() as session:
                self.figures = await self._read_figures(
                    session, local_midnight(moment, self._timezone), moment
                )
        except (SQLAlchemyError, OSError) as err:
            self._figures_stale = True
            log.warning("wallboard: cannot read today's figures: %s", err)

    def _build(self, live: Live, now: float) -> Board:
        return build_board(
            loads=live.loads,
            states=live.states,
            calls=live.calls,
            queue_today=self.figures.queues,
            agent_today=self.figures.agents,
            queues=self.directory.queues,
            agents=self.directory.agents,
            now=now,
            totals=self.figures.totals,
            intervals=self.figures.intervals,
            abandoned=self.figures.abandoned,
        )

    def publish(self, board: Board) -> None:
        """Make `board` the current one and send every wallboard what changed."""
        before, self.board = self.board, board
        self.built_at = time.time()
        if before == board:
            return
        self.version += 1
        by_language: dict[str, list[BoardClient]] = {}
        for client in self.clients:
            by_language.setdefault(client.language, []).append(client)
        for language, clients in by_language.items():
            frame = render.changes(self._env, before, board, language, self.built_at)
            if frame:
                for client in clients:
                    client.offer(frame)

    # --- clients -------------------------------------------------------------------------

    def add(self, client: BoardClient) -> None:
        self.clients.add(client)

    def remove(self, client: BoardClient) -> None:
        self.clients.discard(client)

    def whole(self, language: str) -> str:
        """The whole board as one frame (for a wallboard that just connected)."""
        board = self.board or Board((), ())
        return render.changes(self._env, None, board, language, time.time())

    def stop_all(self, code: int) -> None:
        for client in list(self.clients):
            client.stop(code)
