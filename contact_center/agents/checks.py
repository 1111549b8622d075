"""Argument checks shared by the web (before sending a command) and the bridge (before
touching AMI): the bridge checks again, it trusts no process on the bus."""

from __future__ import annotations

import re
from typing import Final

from contact_center.ami.codec import check_interface, check_queue
from contact_center.errors import AgentCommandInvalid, AmiBadInput

E164: Final = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
MEMBER_NAME_MAX: Final = 80
REASON_MAX: Final = 80


def _text(value: object, what: str, maximum: int, *, required: bool) -> str:
    if not isinstance(value, str):
        raise AgentCommandInvalid(f"{what} must be text")
    text = value.strip()
    if required and not text:
        raise AgentCommandInvalid(f"{what} is empty")
    if len(text) > maximum:
        raise AgentCommandInvalid(f"{what} is longer than {maximum} characters")
    if any(ch < " " or ch == "\x7f" for ch in text):
        raise AgentCommandInvalid(f"{what} contains a line break or control character")
    return text


def queue(value: object) -> str:
    try:
        return check_queue(value)  # type: ignore[arg-type]
    except AmiBadInput as err:
        raise AgentCommandInvalid(str(err)) from err


def interface(value: object) -> str:
    try:
        return check_interface(value)  # type: ignore[arg-type]
    except AmiBadInput as err:
        raise AgentCommandInvalid(str(err)) from err


def member_name(value: object) -> str:
    return _text(value, "member name", MEMBER_NAME_MAX, required=True)


def label(value: object) -> str:
    """A list entry's label: one line, 1-80 characters."""
    return _text(value, "label", REASON_MAX, required=True)


def reason(value: object) -> str:
    return _text(value, "pause reason", REASON_MAX, required=False)


def e164(value: object) -> str:
    """A number to dial: E.164 only (normalized by the web before it gets here)."""
    if not isinstance(value, str) or not E164.fullmatch(value):
        raise AgentCommandInvalid("the number to call must be in E.164 form (+48...)")
    return value
