"""The rules list and its buttons: move up and down, enable or disable, delete, and
"Start from the default". Every button is a POST that redirects back (PRG)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from contact_center.errors import RuleError
from contact_center.routing.rulebook import RulebookDocument
from contact_center.routing.rules import Rule
from contact_center.routing.store import default_document, save_document
from contact_center.web.auth import current_user, require_role
from contact_center.web.auth.roles import refusal
from contact_center.web.i18n import translator
from contact_center.web.keys import DATABASE, ROUTER
from contact_center.web.routing.common import (
    APPLIES,
    ROLES,
    Change,
    build,
    current_document,
    replace_rulebook,
    see_other,
)
from contact_center.web.routing.describe import (
    Gettext,
    describe_actions,
    describe_conditions,
    english,
)

routes = web.RouteTableDef()

LIST = "/routing/rules"


def rule_url(name: str, action: str) -> str:
    return f"{LIST}/{quote(name, safe='')}/{action}"


def rule_rows(rules: tuple[Rule, ...], _: Gettext = english) -> list[dict[str, Any]]:
    return [
        {
            "rule": rule,
            "when": describe_conditions(rule.when, _),
            "then": describe_actions(rule.then, _),
            "edit": rule_url(rule.name, "edit"),
            "move": rule_url(rule.name, "move"),
            "toggle": rule_url(rule.name, "toggle"),
            "delete": rule_url(rule.name, "delete"),
        }
        for rule in rules
    ]


@routes.get(LIST, name="routing_rules")
@require_role(*ROLES)
@aiohttp_jinja2.template("routing/rules.html")
async def rules_list(request: web.Request) -> dict[str, Any]:
    async with request.app[DATABASE].sessions() as session:
        document, is_default = await current_document(session)
    return {
        "rows": rule_rows(document.rules, translator(request).gettext),
        "is_default": is_default,
        "applies": APPLIES,
        "saved": request.query.get("saved", ""),
    }


@routes.post(f"{LIST}/start-default", name="routing_start_default")
@require_role(*ROLES)
async def start_from_default(request: web.Request) -> web.StreamResponse:
    document = await default_document()
    await build(request, document)
    async with request.app[DATABASE].sessions() as session, session.begin():
        await save_document(session, document, user_id=current_user(request).user_id)
    request.app[ROUTER].invalidate()
    return see_other(f"{LIST}?saved=1")


def _index(document: RulebookDocument, name: str) -> int:
    for index, rule in enumerate(document.rules):
        if rule.name == name:
            return index
    raise KeyError(name)


def _with_rules(document: RulebookDocument, rules: list[Rule]) -> RulebookDocument:
    return RulebookDocument(rules=tuple(rules), queues=document.queues)


def _moved(name: str, step: int) -> Change:
    def change(document: RulebookDocument) -> RulebookDocument:
        rules = list(document.rules)
        index = _index(document, name)
        target = max(0, min(len(rules) - 1, index + step))
        rules.insert(target, rules.pop(index))
        return _with_rules(document, rules)

    return change


def _toggled(name: str) -> Change:
    def change(document: RulebookDocument) -> RulebookDocument:
        rules = list(document.rules)
        index = _index(document, name)
        rules[index] = dataclasses.replace(rules[index], enabled=not rules[index].enabled)
        return _with_rules(document, rules)

    return change


def _deleted(name: str) -> Change:
    def change(document: RulebookDocument) -> RulebookDocument:
        rules = list(document.rules)
        del rules[_index(document, name)]
        return _with_rules(document, rules)

    return change


async def _apply(request: web.Request, change: Change) -> web.StreamResponse:
    try:
        await replace_rulebook(request, change)
    except KeyError:
        return refusal(request, 404, "no_such_rule", "There is no rule with this name.")
    except RuleError as err:
        return refusal(request, 400, "bad_rulebook", str(err))
    return see_other(f"{LIST}?saved=1")


@routes.post(f"{LIST}/{{name}}/move", name="routing_rule_move")
@require_role(*ROLES)
async def move_rule(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    direction = form.get("direction")
    if direction not in ("up", "down"):
        return refusal(request, 400, "bad_direction", "Move a rule up or down.")
    name = request.match_info["name"]
    return await _apply(request, _moved(name, -1 if direction == "up" else 1))


@routes.post(f"{LIST}/{{name}}/toggle", name="routing_rule_toggle")
@require_role(*ROLES)
async def toggle_rule(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    return await _apply(request, _toggled(name))


@routes.post(f"{LIST}/{{name}}/delete", name="routing_rule_delete")
@require_role(*ROLES)
async def delete_rule(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    return await _apply(request, _deleted(name))
