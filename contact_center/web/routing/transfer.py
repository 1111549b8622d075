"""The rulebook as a YAML file: download it, or upload (or paste) one to replace it. An
upload is validated whole before anything is stored; a bad one changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from contact_center.errors import RuleError
from contact_center.routing.rulebook import MAX_DOCUMENT, RulebookDocument, dump_yaml, load_yaml
from contact_center.web.auth import require_role
from contact_center.web.keys import DATABASE
from contact_center.web.routing.common import (
    APPLIES,
    ROLES,
    Change,
    build,
    current_document,
    replace_rulebook,
    see_other,
)
from contact_center.web.routing.rules_views import LIST

routes = web.RouteTableDef()

EXPORT = "/routing/rules.yaml"
IMPORT = f"{LIST}/import"


@routes.get(EXPORT, name="routing_export")
@require_role(*ROLES)
async def export_rules(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].sessions() as session:
        document, _default = await current_document(session)
    return web.Response(
        text=dump_yaml(document),
        content_type="text/yaml",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="rules.yaml"'},
    )


def _form(request: web.Request, text: str = "", error: str = "", status: int = 200) -> web.Response:
    context: dict[str, Any] = {"text": text, "error": error, "applies": APPLIES}
    return aiohttp_jinja2.render_template("routing/import.html", request, context, status=status)


@routes.get(IMPORT, name="routing_import")
@require_role(*ROLES)
async def import_form(request: web.Request) -> web.StreamResponse:
    return _form(request)


async def _uploaded_text(form: Any) -> str:
    """The uploaded file's text; empty when no file was chosen."""
    upload = form.get("file")
    if isinstance(upload, web.FileField) and upload.filename:
        raw: bytes = await asyncio.to_thread(upload.file.read, MAX_DOCUMENT * 4 + 1)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RuleError("the file is not UTF-8 text") from err
    return ""


@routes.post(IMPORT)
@require_role(*ROLES)
async def import_rules(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    pasted = form.get("yaml")
    kept = pasted if isinstance(pasted, str) else ""
    try:
        text = await _uploaded_text(form) or kept
        if not text.strip():
            raise RuleError("choose a rulebook file or paste one")
        # parsing resolves the queues' time zones (files on disk): in a thread
        document = await asyncio.to_thread(load_yaml, text)
        await build(request, document)
        await replace_rulebook(request, _replace_with(document))
    except RuleError as err:
        return _form(request, kept, str(err), 400)
    return see_other(f"{LIST}?saved=1")


def _replace_with(document: RulebookDocument) -> Change:
    return lambda _current: document
