"""The board as HTML fragments (jinja2, autoescaped: caller names are the caller's text),
each with its id, for htmx's ws extension to swap in. Only what differs between two boards
is rendered; a change in which queues or agents are shown re-renders their whole list."""

from __future__ import annotations

import jinja2

from contact_center.wallboard.board import Board

CLOCK = "wallboard/clock.html"
QUEUES = "wallboard/queues.html"
TILE = "wallboard/tile.html"
AGENTS = "wallboard/agents.html"
AGENT_ROW = "wallboard/agent_row.html"
TOTALS = "wallboard/totals.html"
CHART = "wallboard/chart.html"
ABANDONED = "wallboard/abandoned.html"


def changes(
    env: jinja2.Environment, before: Board | None, after: Board, language: str, now: float
) -> str:
    """The fragments that turn `before` into `after` on the page ("" when nothing changed;
    all of them when `before` is None). The clock fragment goes with every frame: the page
    counts waits and times in state from the server's time, not its own."""
    context = {"language": language, "now": now, "board": after}
    parts: list[str] = []

    def add(name: str, **more: object) -> None:
        parts.append(env.get_template(name).render(context, **more))

    if before is None or [t.queue for t in before.queues] != [t.queue for t in after.queues]:
        add(QUEUES, oob=True)
    else:
        for old, new in zip(before.queues, after.queues, strict=True):
            if old != new:
                add(TILE, tile=new, oob=True)
    if before is None or [a.interface for a in before.agents] != [
        a.interface for a in after.agents
    ]:
        add(AGENTS, oob=True)
    else:
        for old_row, new_row in zip(before.agents, after.agents, strict=True):
            if old_row != new_row:
                add(AGENT_ROW, agent=new_row, oob=True)
    if before is None or before.totals != after.totals:
        add(TOTALS, oob=True)
    if before is None or before.intervals != after.intervals:
        add(CHART, oob=True)
    if before is None or before.abandoned != after.abandoned or _callers(before) != _callers(after):
        add(ABANDONED, oob=True)
    if not parts:
        return ""
    add(CLOCK, oob=True)
    return "".join(parts)


def _callers(board: Board) -> list[tuple[int, str]]:
    """Who a callback can be given to: the worklist's agent list."""
    return [(a.user_id, a.name) for a in board.agents if a.user_id is not None]


def page_context(board: Board, language: str, now: float) -> dict[str, object]:
    return {"board": board, "language": language, "now": now, "oob": False}
