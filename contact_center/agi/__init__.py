"""FastAGI: the dialplan's ``AGI(agi://host:port/<script>)`` calls land here.

``protocol`` is the pure part (lines in, objects out, commands out as bytes); ``server`` runs
it on asyncio streams and hands each call to the handler routed by its script name.
"""

from contact_center.agi.protocol import AgiRequest, AgiResponse
from contact_center.agi.server import AgiServer, AgiSession, Handler

__all__ = ["AgiRequest", "AgiResponse", "AgiServer", "AgiSession", "Handler"]
