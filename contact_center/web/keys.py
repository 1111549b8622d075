"""Typed application keys: every resource the views reach through the app."""

from __future__ import annotations

from aiohttp import web

from contact_center.accounts import Passwords
from contact_center.bridge import Bridge
from contact_center.health.metrics import Metrics
from contact_center.i18n import Catalogs
from contact_center.routing.service import Router
from contact_center.runtime import Database, Messaging
from contact_center.settings import Settings
from contact_center.wallboard.feed import WallboardFeed
from contact_center.web.push.hub import PushHub

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
MESSAGING = web.AppKey("messaging", Messaging)
BRIDGE = web.AppKey("bridge", Bridge)
PASSWORDS = web.AppKey("passwords", Passwords)
METRICS = web.AppKey("metrics", Metrics)
"""This process's metrics (one registry per process, see `contact_center/health/metrics.py`)."""
ROUTER = web.AppKey("router", Router)
"""This process's router: the simulator decides with it, edits invalidate its rulebook."""
CATALOGS = web.AppKey("catalogs", Catalogs)
"""Every language's translations, compiled at start-up."""
PUSH_HUB = web.AppKey("push_hub", PushHub)
"""This process's connected websockets, fed by its one bus listener."""
WALLBOARD = web.AppKey("wallboard", WallboardFeed)
"""This process's wallboard feed: the board now and the wallboards connected here."""
