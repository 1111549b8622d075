"""The configurable lists agents pick from: pause reasons and disposition codes.

Admins add, relabel, reorder and retire entries (web JSON API or CLI); agents see the
active ones in order. A code is a short stable id (`lunch`); the label is what people and
Asterisk see (QueuePause's Reason is the label)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.agents import checks
from contact_center.errors import AgentCommandInvalid
from contact_center.storage.models import AGENT_CODE_KINDS, AgentCode

PAUSE_REASON: Final = "pause_reason"
DISPOSITION: Final = "disposition"
CODE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Code:
    id: int
    kind: str
    code: str
    label: str
    position: int
    active: bool

    def to_data(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "code": self.code,
            "label": self.label,
            "position": self.position,
            "active": self.active,
        }


def _view(row: AgentCode) -> Code:
    return Code(row.id, row.kind, row.code, row.label, row.position, row.active)


def check_kind(kind: object) -> str:
    if kind not in AGENT_CODE_KINDS:
        raise AgentCommandInvalid(f"list must be one of {', '.join(AGENT_CODE_KINDS)}")
    return str(kind)


def check_code(code: object) -> str:
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise AgentCommandInvalid("code: 1-32 of a-z, 0-9, '_' or '-', starting with a letter")
    return code


async def list_codes(session: AsyncSession, kind: str, *, everything: bool = False) -> list[Code]:
    """The list `kind` in order: active entries only unless `everything`."""
    query = select(AgentCode).where(AgentCode.kind == check_kind(kind))
    if not everything:
        query = query.where(AgentCode.active)
    rows = await session.scalars(query.order_by(AgentCode.position, AgentCode.id))
    return [_view(row) for row in rows]


async def find_code(session: AsyncSession, kind: str, code: object) -> Code:
    """The active entry `code` of list `kind`; AgentCommandInvalid if there is none."""
    row = await session.scalar(
        select(AgentCode).where(
            AgentCode.kind == check_kind(kind), AgentCode.code == check_code(code), AgentCode.active
        )
    )
    if row is None:
        raise AgentCommandInvalid(f"no active {kind.replace('_', ' ')} {code!r}")
    return _view(row)


async def save_code(
    session: AsyncSession,
    kind: str,
    code: object,
    label: object,
    *,
    position: object = None,
    active: object = True,
) -> Code:
    """Add entry `code` to list `kind`, or change its label, position or active flag."""
    kind, code = check_kind(kind), check_code(code)
    label = checks.label(label)
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 10_000
    ):
        raise AgentCommandInvalid("position must be a whole number from 0 to 9999")
    if not isinstance(active, bool):
        raise AgentCommandInvalid("active must be true or false")
    row = await session.scalar(
        select(AgentCode).where(AgentCode.kind == kind, AgentCode.code == code)
    )
    if row is None:
        last = await session.scalar(
            select(AgentCode.position)
            .where(AgentCode.kind == kind)
            .order_by(AgentCode.position.desc())
            .limit(1)
        )
        row = AgentCode(kind=kind, code=code, position=(last or 0) + 1 if position is None else 0)
        session.add(row)
    row.label = label
    row.active = active
    if position is not None:
        row.position = position
    try:
        await session.flush()
    except IntegrityError as err:  # the same code added at the same moment elsewhere
        raise AgentCommandInvalid(f"{kind} {code!r} exists already") from err
    return _view(row)
