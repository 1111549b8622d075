"""What the routing pages share: the current rulebook, replacing it in one transaction,
the router of this process, and redirects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.i18n import N_
from contact_center.routing.rulebook import RulebookDocument, dump_rule
from contact_center.routing.rules import Rulebook, parse_rules
from contact_center.routing.service import Router
from contact_center.routing.store import default_document, load_document, save_document
from contact_center.web.auth import current_user
from contact_center.web.keys import BRIDGE, DATABASE, MESSAGING, ROUTER, SETTINGS

ROLES = ("supervisor", "admin")
APPLIES = N_("Changes apply to new calls within 5 seconds.")

Change = Callable[[RulebookDocument], RulebookDocument]
"""A change to the rulebook: the current document in, the new one out (or a RuleError)."""


async def router_ctx(app: web.Application) -> AsyncIterator[None]:
    """One router per web process: the bridge's when it runs here (so an edit applies to
    this node's calls at once), else one of its own on the app's database and live state."""
    if BRIDGE in app:
        app[ROUTER] = app[BRIDGE].router
        yield
        return
    router = Router(app[DATABASE].sessions, app[SETTINGS], app[MESSAGING].live)
    app[ROUTER] = router
    try:
        yield
    finally:
        await router.aclose()


async def current_document(session: AsyncSession) -> tuple[RulebookDocument, bool]:
    """The stored rulebook, or the shipped default (and True) when none is stored."""
    stored = await load_document(session)
    if stored is not None:
        return stored, False
    return await default_document(), True


async def build(request: web.Request, document: RulebookDocument) -> Rulebook:
    """Validate a whole document the way the router will use it: unique rule names, every
    time zone resolved (zoneinfo reads files: in a thread)."""
    parse_rules([dump_rule(rule) for rule in document.rules])
    settings = request.app[SETTINGS]
    return await asyncio.to_thread(document.build, settings.default_queue, settings.timezone)


async def replace_rulebook(request: web.Request, change: Change) -> None:
    """Read the current rulebook, change it, validate the result and store all of it in one
    transaction (a RuleError stores nothing); then this process routes with it at once."""
    async with request.app[DATABASE].sessions() as session, session.begin():
        current, _default = await current_document(session)
        document = change(current)
        await build(request, document)
        await save_document(session, document, user_id=current_user(request).user_id)
    request.app[ROUTER].invalidate()


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})
