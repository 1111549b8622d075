"""The Asterisk sandbox: a Debian sid chroot running our Asterisk config, plus SIPp traffic.

Everything here runs subprocesses with asyncio and touches files through worker threads, so
it can be used from inside a running event loop.
"""

from __future__ import annotations

from contact_center.sandbox.asterisk import AsteriskSandbox, SandboxStatus
from contact_center.sandbox.sipp import AgentPhone, CallResult, place_call
from contact_center.sandbox.traffic import TrafficResult, run_traffic

__all__ = [
    "AgentPhone",
    "AsteriskSandbox",
    "CallResult",
    "SandboxStatus",
    "TrafficResult",
    "place_call",
    "run_traffic",
]
