"""The desk's forms (htmx, login + CSRF; each answers with the fragment it replaces):

- `POST /desk/notes` {node, linkedid, notes, disposition}: notes and a disposition code on
  the call (during it or in wrap-up); kept until the call's interaction exists;
- `POST /desk/customers` {node, linkedid, name, company, number, language}: an unknown
  caller becomes a new customer, linked to the call;
- `GET /desk/search?q=` (and the call's node, linkedid, number): customers by name, number or
  company, only those the user may see; `GET /desk/customers/{id}`: one's card and latest
  contacts (only one the user may see); `POST /desk/link` {node, linkedid, number,
  customer_id}: the number becomes that customer's and the call is linked to them;
- `POST /desk/tasks` {kind, title, due, customer_id?, number?}: a follow-up or a callback for
  the agent, due at a local time (`CC_TIMEZONE`); `POST /desk/tasks/{id}/done`.

A refusal answers 400 (a field: what was typed comes back with the error), 403 (not the
user's call or customer) or 409 (the call is being written: save again)."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.bus import AgentCall
from contact_center.crm import complete_task, create_task, due_tasks, find_customers
from contact_center.desk import call_notes, new_customer
from contact_center.desk import pop as pops
from contact_center.desk.visibility import may_see, visible
from contact_center.errors import (
    BusUnavailable,
    CrmError,
    DeskForbidden,
    DeskInvalid,
    DeskNotYet,
    TaskInvalid,
)
from contact_center.web.auth import current_user, require_role
from contact_center.web.i18n import translator
from contact_center.web.keys import DATABASE, MESSAGING, SETTINGS

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

FIELDS = ("name", "company", "number", "language", "q")


def _text(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def _current_call(request: web.Request) -> AgentCall | None:
    interface = current_user(request).interface
    if not interface:
        return None
    try:
        return await request.app[MESSAGING].live.agent_call(interface)
    except (BusUnavailable, ValueError) as err:
        log.warning("desk: no current call for %s: %s", interface, err)
        return None


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    return aiohttp_jinja2.render_template(f"agent/{template}", request, context, status=status)


def _refused(request: web.Request, err: Exception) -> tuple[int, str]:
    _ = translator(request).gettext
    if isinstance(err, DeskNotYet):
        return 409, _("The call is being saved: save again in a moment (your text is kept).")
    if isinstance(err, DeskForbidden):
        return 403, _("This call or customer is not yours.")
    return 400, str(err)


async def _theirs(
    request: web.Request, session: AsyncSession, form: MultiDictProxy[Any]
) -> tuple[str, str]:
    node, linkedid = call_notes.call_id(form.get("node"), form.get("linkedid"))
    current = await _current_call(request)
    await call_notes.check_call_is_theirs(session, current_user(request), current, node, linkedid)
    return node, linkedid


@routes.post("/desk/notes")
@require_role()
async def save_notes(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    identity = current_user(request)
    try:
        async with request.app[DATABASE].sessions() as session, session.begin():
            node, linkedid = await _theirs(request, session, form)
            await call_notes.save_notes(
                session,
                node=node,
                linkedid=linkedid,
                user_id=identity.user_id,
                notes=_text(form, "notes"),
                disposition=_text(form, "disposition"),
            )
    except (DeskInvalid, DeskForbidden, DeskNotYet) as err:
        status, message = _refused(request, err)
        return _render(request, "saved.html", status, error=message)
    log.info("desk: %s saved notes on call %s", identity.username, linkedid)
    return _render(request, "saved.html", message=translator(request).gettext("Notes saved."))


async def _customer_panel(
    request: web.Request,
    session: AsyncSession,
    node: str,
    linkedid: str,
    number: str,
    status: int = 200,
    **context: Any,
) -> web.Response:
    pop = await pops.load_in(
        session,
        node=node,
        linkedid=linkedid,
        number=number or None,
        ranked=(),
        user_id=current_user(request).user_id,
    )
    return _render(request, "call_customer.html", status, pop=pop, **context)


def _typed(form: MultiDictProxy[Any]) -> dict[str, str]:
    return {name: _text(form, name) for name in FIELDS}


@routes.post("/desk/customers")
@require_role()
async def add_customer(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    identity = current_user(request)
    async with request.app[DATABASE].sessions() as session:
        try:
            async with session.begin():
                node, linkedid = await _theirs(request, session, form)
                customer_id = await new_customer.create_customer(
                    session,
                    name=_text(form, "name"),
                    company=_text(form, "company"),
                    number=_text(form, "number"),
                    language=_text(form, "language"),
                    region=request.app[SETTINGS].default_region,
                    user_id=identity.user_id,
                )
                await call_notes.link_customer(
                    session,
                    node=node,
                    linkedid=linkedid,
                    user_id=identity.user_id,
                    customer_id=customer_id,
                )
        except (DeskInvalid, DeskForbidden, DeskNotYet) as err:
            status, message = _refused(request, err)
            if status == 403:
                return _render(request, "saved.html", status, error=message)
            node, linkedid = call_notes.call_id(form.get("node"), form.get("linkedid"))
            return await _customer_panel(
                request,
                session,
                node,
                linkedid,
                _text(form, "number"),
                status,
                error=message,
                form=_typed(form),
            )
        return await _customer_panel(request, session, node, linkedid, _text(form, "number"))


@routes.get("/desk/search")
@require_role()
async def search(request: web.Request) -> web.StreamResponse:
    query = request.query
    context: dict[str, Any] = {
        "node": query.get("node", ""),
        "linkedid": query.get("linkedid", ""),
        "number": query.get("number", ""),
        "matches": (),
    }
    try:
        async with request.app[DATABASE].sessions() as session:
            found = await find_customers(
                session, query.get("q", ""), 20, region=request.app[SETTINGS].default_region
            )
            shown = set(await visible(session, current_user(request), [m.id for m in found]))
    except CrmError as err:
        return _render(request, "search_results.html", 400, error=str(err), **context)
    context["matches"] = [m for m in found if m.id in shown]
    return _render(request, "search_results.html", **context)


@routes.get("/desk/customers/{customer_id:[0-9]{1,9}}")
@require_role()
async def customer_view(request: web.Request) -> web.StreamResponse:
    """A customer's card and latest contacts: only a customer the user may see."""
    customer_id = int(request.match_info["customer_id"])
    identity = current_user(request)
    current = await _current_call(request)
    async with request.app[DATABASE].sessions() as session:
        customer = None
        if await may_see(session, identity, customer_id, current):
            customer = await pops.load_customer(session, customer_id)
    if customer is None:
        status, message = _refused(request, DeskForbidden("not yours"))
        return _render(request, "saved.html", status, error=message)
    return _render(request, "customer_view.html", customer=customer)


def _customer_id(form: MultiDictProxy[Any]) -> int:
    raw = _text(form, "customer_id")
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise DeskInvalid("customer_id must be a number")
    return int(raw)


@routes.post("/desk/link")
@require_role()
async def link(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    identity = current_user(request)
    async with request.app[DATABASE].sessions() as session:
        try:
            async with session.begin():
                node, linkedid = await _theirs(request, session, form)
                customer_id = _customer_id(form)
                if not await may_see(session, identity, customer_id):
                    raise DeskForbidden(f"customer {customer_id} is not yours")
                await new_customer.add_number(
                    session,
                    customer_id,
                    _text(form, "number"),
                    request.app[SETTINGS].default_region,
                )
                await call_notes.link_customer(
                    session,
                    node=node,
                    linkedid=linkedid,
                    user_id=identity.user_id,
                    customer_id=customer_id,
                )
        except (DeskInvalid, DeskForbidden, DeskNotYet) as err:
            status, message = _refused(request, err)
            return _render(request, "saved.html", status, error=message)
        log.info("desk: %s linked call %s to customer %s", identity.username, linkedid, customer_id)
        return await _customer_panel(request, session, node, linkedid, _text(form, "number"))


def _due(value: str, timezone: str) -> dt.datetime:
    """A datetime-local field ("2026-12-03T14:30"), in the center's time zone, as UTC."""
    try:
        local = dt.datetime.fromisoformat(value)
    except ValueError as err:
        raise DeskInvalid("due: give a date and a time") from err
    if local.tzinfo is not None:
        raise DeskInvalid("due: give a local date and time")
    return local.replace(tzinfo=zoneinfo.ZoneInfo(timezone)).astimezone(dt.UTC)


@routes.post("/desk/tasks")
@require_role()
async def add_task(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    identity = current_user(request)
    settings = request.app[SETTINGS]
    try:
        due_at = _due(_text(form, "due"), settings.timezone)
        async with request.app[DATABASE].sessions() as session, session.begin():
            customer_id = None
            if _text(form, "customer_id"):
                customer_id = _customer_id(form)
                current = await _current_call(request)
                if not await may_see(session, identity, customer_id, current):
                    raise DeskForbidden(f"customer {customer_id} is not yours")
            task = await create_task(
                session,
                kind=_text(form, "kind"),
                title=_text(form, "title"),
                due_at=due_at,
                region=settings.default_region,
                user_id=identity.user_id,
                customer_id=customer_id,
                phone_number=_text(form, "number"),
                assigned_to_id=identity.user_id,
            )
    except (DeskInvalid, DeskForbidden, TaskInvalid, CrmError) as err:
        status, message = _refused(request, err)
        return _render(request, "saved.html", status, error=message)
    log.info("desk: %s added task %s", identity.username, task.id)
    return _render(request, "saved.html", message=translator(request).gettext("Task added."))


@routes.post("/desk/tasks/{task_id:[0-9]{1,9}}/done")
@require_role()
async def task_done(request: web.Request) -> web.StreamResponse:
    identity = current_user(request)
    task_id = int(request.match_info["task_id"])
    now = dt.datetime.now(dt.UTC)
    async with request.app[DATABASE].sessions() as session:
        async with session.begin():
            theirs = {task.id for task in await due_tasks(session, identity.user_id, now)}
            if task_id not in theirs:
                return _render(
                    request,
                    "saved.html",
                    403,
                    error=translator(request).gettext("This task is not yours or not due."),
                )
            try:
                await complete_task(session, task_id, user_id=identity.user_id, at=now)
            except CrmError as err:
                return _render(request, "saved.html", 409, error=str(err))
        tasks = await due_tasks(session, identity.user_id, now)
    return _render(request, "tasks_due.html", tasks=tasks)
