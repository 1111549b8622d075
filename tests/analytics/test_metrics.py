"""Every metric of contact_center.analytics.metrics against figures worked out by hand on
the known data set (tests/analytics/dataset.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from contact_center.analytics.metrics import (
    Figures,
    Filters,
    add_up,
    caller_figures,
    queue_figures,
)
from tests.analytics.dataset import SINCE, UNTIL, Known


async def test_each_queue_by_hand(known: Known) -> None:
    async with known.sessions() as session:
        result = {item.queue: item for item in await queue_figures(session, SINCE, UNTIL)}
    assert sorted(result) == ["ghost", "support", "vip"]
    assert [result[q].service_level_seconds for q in ("ghost", "support", "vip")] == [20, 20, 10]

    support = result["support"].figures
    # offered: calls 1, 5, 2, 3, 4, 11 (9 voicemail and 10 unqueued were not offered)
    assert (support.offered, support.answered, support.within_service_level) == (6, 2, 1)
    assert (support.abandoned, support.short_abandoned, support.exited, support.unknown) == (
        1,
        1,
        1,
        1,
    )
    assert support.counted == 5
    assert support.service_level == pytest.approx(1 / 5)
    assert support.abandon_rate == pytest.approx(1 / 5)
    assert support.asa == pytest.approx((5 + 30) / 2)
    assert support.average_abandon_wait == pytest.approx(40)
    assert support.longest_wait_seconds == pytest.approx(120)
    assert support.aht == pytest.approx((100 + 10 + 5 + 200 + 0 + 5) / 2)
    assert (support.average_talk, support.average_hold, support.average_wrapup) == (
        pytest.approx(150),
        pytest.approx(5),
        pytest.approx(5),
    )
    assert (support.transferred, support.transfers) == (1, 1)
    assert support.transfer_rate == pytest.approx(1 / 2)

    vip = result["vip"].figures
    assert (vip.offered, vip.answered, vip.within_service_level) == (2, 2, 1)  # 12 s > 10 s
    assert vip.service_level == pytest.approx(0.5)
    assert vip.asa == pytest.approx(10)
    assert vip.aht == pytest.approx((60 + 50) / 2)

    ghost = result["ghost"].figures
    assert (ghost.offered, ghost.within_service_level, ghost.service_level) == (1, 1, 1.0)

    total = add_up(item.figures for item in result.values())
    assert (total.offered, total.answered, total.within_service_level, total.counted) == (
        9,
        5,
        3,
        8,
    )
    assert total.service_level == pytest.approx(3 / 8)
    assert total.longest_wait_seconds == pytest.approx(120)


async def test_one_queue_and_an_empty_period(known: Known) -> None:
    async with known.sessions() as session:
        [vip] = await queue_figures(session, SINCE, UNTIL, queue="vip")
        assert vip.queue == "vip"
        assert vip.figures.offered == 2
        assert await queue_figures(session, UNTIL, UNTIL + (UNTIL - SINCE)) == []
    empty = Figures()
    assert (empty.service_level, empty.asa, empty.aht) == (None, None, None)


@pytest.mark.parametrize(
    ("filters", "offered"),
    [
        (Filters(tier="vip"), 1),  # call 6
        (Filters(hotline="+48221000999"), 1),  # call 4
        (Filters(disposition="resolved"), 2),  # calls 1 and 6
        (Filters(queue="support", disposition="resolved"), 1),  # call 1
    ],
)
async def test_filters(known: Known, filters: Filters, offered: int) -> None:
    async with known.sessions() as session:
        result = await queue_figures(session, SINCE, UNTIL, filters=filters)
    assert add_up(item.figures for item in result).offered == offered


async def test_agent_filter(known: Known) -> None:
    async with known.sessions() as session:
        result = await queue_figures(session, SINCE, UNTIL, filters=Filters(agent_id=known.anna))
    total = add_up(item.figures for item in result)
    assert (total.answered, total.talk_seconds) == (3, 100 + 60 + 50)  # calls 1, 6, 7


async def test_first_contact_resolution_and_repeat_callers(known: Known) -> None:
    async with known.sessions() as session:
        callers = await caller_figures(session, SINCE, UNTIL)
    # answered calls of identified callers: 1 (Ala), 2 (Bogdan), 6 (Cezary), 7 (Ala), 8 (+..02).
    # 1: Ala calls again at 10:00; 7: Ala calls again at 22:00 (voicemail: a call all the same);
    # 6: Cezary calls again two days later; 2: Bogdan's next call is 8 days later (resolved);
    # 8: the number never calls again (resolved).
    assert (callers.answered_identified, callers.resolved_first_contact) == (5, 2)
    assert callers.fcr == pytest.approx(2 / 5)
    # offered calls per caller: Ala 3 (1, 4, 7), Bogdan 2 (5, 2), Cezary 1, +..01 1, +..02 1;
    # the withheld caller of call 11 is nobody in particular.
    assert (callers.callers, callers.repeat_callers, callers.repeat_caller_calls) == (5, 2, 5)
    assert callers.repeat_rate == pytest.approx(2 / 5)


async def test_fcr_window_is_a_parameter(known: Known) -> None:
    async with known.sessions() as session:
        callers = await caller_figures(session, SINCE, UNTIL, fcr_days=1)
    # within one day Cezary (two days later) no longer counts as calling again
    assert callers.resolved_first_contact == 3
