"""The Asterisk Manager Interface adapter: the only package that imports panoramisk.

:class:`AmiClient` keeps one logged-in link and puts typed events (:mod:`.events`) on the
caller's queue; :func:`parse_event` turns one AMI frame into one of them.
"""

from contact_center.ami.client import AmiClient
from contact_center.ami.events import AmiConnected, AmiDisconnected, AmiEvent, parse_event

__all__ = ["AmiClient", "AmiConnected", "AmiDisconnected", "AmiEvent", "parse_event"]
