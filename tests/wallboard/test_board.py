"""The board without I/O: tiles from the live state and today's figures, alert levels, and
the fragments that turn one board into the next."""

from __future__ import annotations

import jinja2

from contact_center.bus import AgentCall, QueueLoad
from contact_center.calls.agents import AgentState, QueueState
from contact_center.wallboard import render
from contact_center.wallboard.board import (
    AMBER,
    OK,
    RED,
    Agent,
    QueueInfo,
    Thresholds,
    Today,
    build_board,
    level_of,
)
from contact_center.web.app import TEMPLATES

NOW = 1_800_000_000.0


def state(interface: str, *queues: tuple[str, str, str]) -> AgentState:
    members = tuple(
        QueueState(q, s, NOW - 30, reason=r, paused=s == "paused") for q, s, r in queues
    )
    overall = members[0].state if members else "logged_out"
    reason = members[0].reason if members else ""
    return AgentState(interface, "node1", overall, NOW - 30, reason, members)


def test_levels_are_the_worst_alert_and_none_is_no_alert() -> None:
    t = Thresholds(waiting_amber=2, waiting_red=4, longest_wait_amber=30, longest_wait_red=90)
    assert level_of(t, 0, 0, None) == (OK, ())
    assert level_of(t, 2, 0, None) == (AMBER, ("waiting",))
    assert level_of(t, 2, 95, None) == (RED, ("longest_wait", "waiting"))
    assert level_of(t, 0, 0, 0.7) == (AMBER, ("service_level",))
    assert level_of(t, 0, 0, 0.59) == (RED, ("service_level",))
    assert level_of(t, 0, 0, 0.8) == (OK, ())
    none = Thresholds(None, None, None, None, None, None)
    assert level_of(none, 99, 9999, 0.0) == (OK, ())


def test_tiles_count_agents_by_state_and_pauses_by_reason() -> None:
    board = build_board(
        loads={"sales": QueueLoad(3, 70.0)},
        states=[
            state("PJSIP/a1", ("sales", "available", ""), ("vip", "paused", "Lunch")),
            state("PJSIP/a2", ("sales", "paused", "Lunch")),
            state("PJSIP/a3", ("sales", "paused", "Training")),
            state("PJSIP/a4", ("sales", "on_call", "")),
            state("PJSIP/a5", ("sales", "wrap_up", ""), ("vip", "ringing", "")),
        ],
        calls={
            "PJSIP/a4": AgentCall("PJSIP/a4", "connected", NOW, "node1", "l", "u", "+48", "Ewa")
        },
        queue_today={"sales": Today(offered=10, answered=9, service_level=0.9)},
        agent_today={7: Today(answered=4, aht=61.0)},
        queues={"sales": QueueInfo("sales", "Sprzedaż", 30), "empty": QueueInfo("empty", "E", 20)},
        agents={"PJSIP/a4": Agent(7, "Ewa Agent")},
        now=NOW,
    )
    tiles = {t.queue: t for t in board.queues}
    assert list(tiles) == ["empty", "sales", "vip"]
    sales = tiles["sales"]
    assert (sales.name, sales.waiting, sales.oldest_since) == ("Sprzedaż", 3, NOW - 70)
    assert (sales.logged_in, sales.available, sales.on_call, sales.wrap_up) == (5, 1, 1, 1)
    assert sales.paused == (("Lunch", 1), ("Training", 1))
    assert (sales.level, sales.alerts) == (AMBER, ("longest_wait", "waiting"))
    assert sales.service_level_seconds == 30
    assert (tiles["vip"].ringing, tiles["vip"].paused) == (1, (("Lunch", 1),))
    assert tiles["empty"].waiting == 0
    assert tiles["empty"].oldest_since is None
    rows = {r.interface: r for r in board.agents}
    assert (rows["PJSIP/a4"].name, rows["PJSIP/a4"].calls_today, rows["PJSIP/a4"].aht) == (
        "Ewa Agent",
        4,
        61.0,
    )
    assert (rows["PJSIP/a4"].caller_name, rows["PJSIP/a4"].call_state) == ("Ewa", "connected")
    assert rows["PJSIP/a1"].name == "PJSIP/a1"  # no user with that phone: its interface
    assert rows["PJSIP/a1"].user_id is None


def test_only_what_changed_is_rendered() -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["time"] = lambda value, form="medium": str(value)

    def board(waiting: int, reason: str) -> object:
        return build_board(
            loads={"sales": QueueLoad(waiting, 5.0), "vip": QueueLoad(0, 0.0)},
            states=[state("PJSIP/a1", ("sales", "paused", reason))],
            calls={},
            queue_today={},
            agent_today={},
            queues={},
            agents={},
            now=NOW,
        )

    first, second, third = board(1, "Lunch"), board(2, "Lunch"), board(2, "Training")
    whole = render.changes(env, None, first, "en", NOW)  # type: ignore[arg-type]
    assert 'id="wb-queues"' in whole
    assert 'id="wb-agents"' in whole
    assert render.changes(env, first, first, "en", NOW) == ""  # type: ignore[arg-type]
    frame = render.changes(env, first, second, "en", NOW)  # type: ignore[arg-type]
    assert 'id="queue-sales"' in frame
    assert 'id="queue-vip"' not in frame
    assert 'id="agent-' not in frame
    assert 'id="wb-clock"' in frame
    frame = render.changes(env, second, third, "en", NOW)  # type: ignore[arg-type]
    assert 'id="agent-PJSIP-a1"' in frame
    assert 'data-reason="Training"' in frame
