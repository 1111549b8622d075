"""Demo data: queues, staff, a few hundred customers in Polish, Ukrainian and English, and a
month of realistic call history, for trying the contact center without real customers.

`load_demo_data` writes it (idempotently) and `demo_callers` gives a traffic generator the
numbers of known customers to call in with."""

from __future__ import annotations

from contact_center.demo.loader import DemoDataError, DemoSummary, demo_callers, load_demo_data
from contact_center.demo.numbers import demo_numbers
from contact_center.demo.people import DEMO_AGENT_INTERFACES

__all__ = [
    "DEMO_AGENT_INTERFACES",
    "DemoDataError",
    "DemoSummary",
    "demo_callers",
    "demo_numbers",
    "load_demo_data",
]
