"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web

from contact_center.accounts import Passwords
from contact_center.health.metrics import Metrics
from contact_center.i18n import Formats, load_catalogs
from contact_center.runtime import open_database, open_messaging, run_bridge
from contact_center.settings import PROJECT_ROOT, Settings
from contact_center.web import (
    agents_api,
    auth,
    desk,
    desk_api,
    desk_lifecycle,
    health,
    i18n,
    reports,
    routing,
    status,
)
from contact_center.web.keys import (
    BRIDGE,
    CATALOGS,
    DATABASE,
    MESSAGING,
    METRICS,
    PASSWORDS,
    SETTINGS,
)
from contact_center.web.push import lifecycle as push
from contact_center.web.push import views as push_views
from contact_center.web.wallboard import close_boards, wallboard_ctx
from contact_center.web.wallboard import routes as wallboard_routes

TEMPLATES = PROJECT_ROOT / "agent_ui" / "templates"
STATIC = PROJECT_ROOT / "agent_ui" / "static"


def create_app(settings: Settings, *, with_bridge: bool = False) -> web.Application:
    """The web app; `with_bridge` also runs this node's bridge in the same process."""
    app = web.Application(middlewares=[health.count_errors, auth.auth_middleware])
    app[SETTINGS] = settings
    app[PASSWORDS] = Passwords()
    app[CATALOGS] = load_catalogs()
    app[METRICS] = Metrics()
    app[METRICS].add_source(health.web_metrics(app))

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_database(settings) as database:
            app[DATABASE] = database
            yield

    async def messaging_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_messaging(settings) as messaging:
            app[MESSAGING] = messaging
            yield

    async def bridge_ctx(app: web.Application) -> AsyncIterator[None]:
        async with run_bridge(settings, app[DATABASE], app[MESSAGING], app[METRICS]) as bridge:
            app[BRIDGE] = bridge
            yield

    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(messaging_ctx)
    if with_bridge:
        app.cleanup_ctx.append(bridge_ctx)
    app.cleanup_ctx.append(routing.router_ctx)
    app.cleanup_ctx.append(push.push_ctx)
    app.cleanup_ctx.append(desk_lifecycle.reminders_ctx)
    app.cleanup_ctx.append(wallboard_ctx)
    app.on_shutdown.append(push.close_sockets)
    app.on_shutdown.append(close_boards)

    templates = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[auth.template_context, i18n.i18n_context],
        auto_reload=False,
    )
    i18n.install(templates, app[CATALOGS], Formats.load(settings.timezone))
    for name in templates.list_templates():  # compiled here, so no page render reads a file
        templates.get_template(name)
    app.add_routes(health.routes)
    app.add_routes(status.routes)
    app.add_routes(auth.routes)
    app.add_routes(routing.routes)
    app.add_routes(reports.routes)
    app.add_routes(desk.routes)
    app.add_routes(desk_api.routes)
    app.add_routes(agents_api.routes)
    app.add_routes(push_views.routes)
    app.add_routes(wallboard_routes)
    app.router.add_static("/static", STATIC)
    return app
