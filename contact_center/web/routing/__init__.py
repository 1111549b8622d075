"""The routing pages for supervisors and admins: the rules in order, one rule's form,
queues' opening hours, YAML import and export, and the simulator."""

from __future__ import annotations

from aiohttp import web

from contact_center.web.routing import queues_views, rule_form, rules_views, simulate, transfer
from contact_center.web.routing.common import router_ctx

routes: list[web.AbstractRouteDef] = [
    *rules_views.routes,
    *rule_form.routes,
    *queues_views.routes,
    *transfer.routes,
    *simulate.routes,
]

__all__ = ["router_ctx", "routes"]
