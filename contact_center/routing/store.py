"""The rulebook in the database: read it, replace it whole, and the shipped default."""

from __future__ import annotations

import asyncio
import functools

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.routing.rulebook import (
    DEFAULT_RULES,
    QueueSettings,
    RulebookDocument,
    dump_rule,
    load_yaml,
    parse_document,
)
from contact_center.storage.models import Queue, RoutingRule


@functools.cache
def _default_document() -> RulebookDocument:
    return load_yaml(DEFAULT_RULES.read_text(encoding="utf-8"))


async def default_document() -> RulebookDocument:
    """The rulebook shipped in default_rules.yaml (read once, in a thread)."""
    return await asyncio.to_thread(_default_document)


def _queue_settings(queue: Queue) -> QueueSettings:
    return QueueSettings(
        timezone=queue.timezone,
        hours=dict(queue.opening_hours or {}),
        holidays=tuple(queue.holidays or ()),
        after_hours=queue.after_hours,
    )


async def load_document(session: AsyncSession) -> RulebookDocument | None:
    """The rulebook stored in the database, or None when no rule was ever stored."""
    rules = list(await session.scalars(select(RoutingRule).order_by(RoutingRule.position)))
    if not rules:
        return None
    queues = list(await session.scalars(select(Queue).order_by(Queue.name)))
    raw = [
        {
            "name": rule.name,
            "description": rule.description,
            "enabled": rule.enabled,
            "when": rule.conditions,
            "then": rule.actions,
        }
        for rule in rules
    ]
    return RulebookDocument(
        rules=parse_document({"rules": raw}).rules,
        queues={queue.name: _queue_settings(queue) for queue in queues},
    )


async def save_document(
    session: AsyncSession, document: RulebookDocument, *, user_id: int | None = None
) -> None:
    """Replace every rule and update the queues the document names, in the caller's
    transaction: either all of it is stored or none of it."""
    await session.execute(delete(RoutingRule))
    await session.flush()
    for position, rule in enumerate(document.rules, start=1):
        dumped = dump_rule(rule)
        session.add(
            RoutingRule(
                position=position,
                name=rule.name,
                enabled=rule.enabled,
                description=rule.description,
                conditions=dumped["when"],
                actions=dumped["then"],
                updated_by_id=user_id,
            )
        )
    existing = {q.name: q for q in await session.scalars(select(Queue))}
    for name, settings in document.queues.items():
        queue = existing.get(name)
        if queue is None:
            queue = Queue(name=name, display_name=name)
            session.add(queue)
        queue.timezone = settings.timezone
        queue.opening_hours = dict(settings.hours)
        queue.holidays = list(settings.holidays)
        queue.after_hours = settings.after_hours
    await session.flush()
