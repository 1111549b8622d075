"""Each queue's alert thresholds (the wallboard's amber and red), checked and stored.

Waiting callers and the longest wait (seconds) alert at or above their threshold; the
service level (a share, 0..1; the form takes percent) below it. An empty value is no alert.
Amber comes before red: amber <= red for waiting and longest wait, amber >= red for the
service level."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.errors import AgentCommandInvalid
from contact_center.storage.models import Queue

FIELDS: Final = (
    "waiting_amber",
    "waiting_red",
    "longest_wait_amber",
    "longest_wait_red",
    "service_level_amber",
    "service_level_red",
)
LIMIT: Final = 100_000.0


@dataclass(frozen=True, slots=True)
class QueueAlerts:
    queue: str
    display_name: str
    values: Mapping[str, float | None]
    """By field name; the service level as a share (0..1)."""


async def list_alerts(session: AsyncSession) -> list[QueueAlerts]:
    queues = (await session.scalars(select(Queue).order_by(Queue.name))).all()
    return [
        QueueAlerts(q.name, q.display_name, {f: getattr(q, f"alert_{f}") for f in FIELDS})
        for q in queues
    ]


def parse(form: Mapping[str, str]) -> dict[str, float | None]:
    """The thresholds of a form (service level in percent); AgentCommandInvalid if wrong."""
    values: dict[str, float | None] = {}
    for name in FIELDS:
        text = (form.get(name) or "").strip().replace(",", ".")
        if not text:
            values[name] = None
            continue
        try:
            number = float(text)
        except ValueError as err:
            raise AgentCommandInvalid(f"{name}: not a number") from err
        if not 0 <= number <= LIMIT or number != number:
            raise AgentCommandInvalid(f"{name}: out of range")
        if name.startswith("service_level"):
            if number > 100:
                raise AgentCommandInvalid(f"{name}: a percentage, 0 to 100")
            number = number / 100
        if name.startswith("waiting") and not number.is_integer():
            raise AgentCommandInvalid(f"{name}: a whole number of callers")
        values[name] = number
    for low, high in (("waiting_amber", "waiting_red"), ("longest_wait_amber", "longest_wait_red")):
        if values[low] is not None and values[high] is not None and values[low] > values[high]:  # type: ignore[operator]
            raise AgentCommandInvalid(f"{low} must not be above {high}")
    amber, red = values["service_level_amber"], values["service_level_red"]
    if amber is not None and red is not None and amber < red:
        raise AgentCommandInvalid("service_level_amber must not be below service_level_red")
    return values


async def save_alerts(
    session: AsyncSession, queue: str, values: Mapping[str, float | None]
) -> None:
    stored = {f"alert_{name}": value for name, value in values.items()}
    for name in ("alert_waiting_amber", "alert_waiting_red"):
        value = stored[name]
        stored[name] = None if value is None else int(value)
    done = await session.execute(update(Queue).where(Queue.name == queue).values(**stored))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise AgentCommandInvalid(f"no queue {queue!r}")
