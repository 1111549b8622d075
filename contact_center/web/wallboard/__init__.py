"""The supervisor wallboard's web side: the page, its websocket, the supervisor actions and
the abandoned-call worklist. Supervisors and admins only."""

from contact_center.web.wallboard import actions_api, alerts_views, views
from contact_center.web.wallboard.lifecycle import close_boards, wallboard_ctx

routes = [*views.routes, *actions_api.routes, *alerts_views.routes]

__all__ = ["close_boards", "routes", "wallboard_ctx"]
