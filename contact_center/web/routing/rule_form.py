"""Add or edit one rule. The form becomes the plain rule a rulebook file would hold and is
validated by the real parser and the whole-rulebook checks; a bad rule re-renders the form
with everything the user typed and the message (HTTP 400), and nothing is stored."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from contact_center.errors import RuleError
from contact_center.routing.rulebook import RulebookDocument
from contact_center.routing.rules import (
    CALLER_KINDS,
    LANGUAGES,
    PREFERRED_AGENTS,
    REASON_FIELDS,
    TIERS,
    Rule,
    parse_rule,
)
from contact_center.routing.schedule import DAYS
from contact_center.storage.models import Queue
from contact_center.web.auth import require_role
from contact_center.web.auth.roles import refusal
from contact_center.web.keys import DATABASE
from contact_center.web.routing.common import (
    APPLIES,
    ROLES,
    Change,
    current_document,
    replace_rulebook,
    see_other,
)
from contact_center.web.routing.forms import RuleForm
from contact_center.web.routing.rules_views import LIST, rule_url

routes = web.RouteTableDef()

NEW = f"{LIST}/new"


async def _queue_names(request: web.Request) -> tuple[RulebookDocument, list[str]]:
    async with request.app[DATABASE].sessions() as session:
        document, _default = await current_document(session)
        names = set(await session.scalars(select(Queue.name)))
    names |= set(document.queues)
    names |= {rule.then.queue for rule in document.rules}
    return document, sorted(names)


async def _render(
    request: web.Request,
    form: RuleForm,
    action: str,
    *,
    original: str | None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    _document, queues = await _queue_names(request)
    context: dict[str, Any] = {
        "form": form,
        "action": action,
        "original": original,
        "error": error,
        "queues": queues,
        "caller_kinds": CALLER_KINDS,
        "tiers": TIERS,
        "languages": LANGUAGES,
        "preferred_agents": PREFERRED_AGENTS,
        "days": DAYS,
        "reason_fields": ["{" + name + "}" for name in REASON_FIELDS],
        "applies": APPLIES,
    }
    return aiohttp_jinja2.render_template("routing/rule_form.html", request, context, status=status)


def _added(rule: Rule) -> Change:
    def change(document: RulebookDocument) -> RulebookDocument:
        return RulebookDocument(rules=(*document.rules, rule), queues=document.queues)

    return change


def _replaced(original: str, rule: Rule) -> Change:
    def change(document: RulebookDocument) -> RulebookDocument:
        names = [r.name for r in document.rules]
        if original not in names:
            raise KeyError(original)
        rules = list(document.rules)
        rules[names.index(original)] = rule
        return RulebookDocument(rules=tuple(rules), queues=document.queues)

    return change


async def _save(request: web.Request, action: str, original: str | None) -> web.StreamResponse:
    form = RuleForm.from_post(await request.post())
    try:
        rule = parse_rule("rule", form.to_data())
        await replace_rulebook(
            request, _added(rule) if original is None else _replaced(original, rule)
        )
    except RuleError as err:
        return await _render(request, form, action, original=original, error=str(err), status=400)
    except KeyError:
        return refusal(request, 404, "no_such_rule", "There is no rule with this name.")
    return see_other(f"{LIST}?saved=1")


@routes.get(NEW, name="routing_rule_new")
@require_role(*ROLES)
async def new_form(request: web.Request) -> web.StreamResponse:
    return await _render(request, RuleForm(), NEW, original=None)


@routes.post(NEW)
@require_role(*ROLES)
async def add_rule(request: web.Request) -> web.StreamResponse:
    return await _save(request, NEW, None)


@routes.get(f"{LIST}/{{name}}/edit", name="routing_rule_edit")
@require_role(*ROLES)
async def edit_form(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    document, _queues = await _queue_names(request)
    rule = next((r for r in document.rules if r.name == name), None)
    if rule is None:
        return refusal(request, 404, "no_such_rule", "There is no rule with this name.")
    return await _render(request, RuleForm.from_rule(rule), rule_url(name, "edit"), original=name)


@routes.post(f"{LIST}/{{name}}/edit")
@require_role(*ROLES)
async def edit_rule(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    return await _save(request, rule_url(name, "edit"), name)
