"""Customers as the agent desktop sees them: the card, the contact history (calls and
contacts logged by hand), follow-up tasks and callbacks, and the customer search.

Service functions take the caller's ``AsyncSession`` (one per request or task), raise the
``CrmError`` subtree of ``contact_center.errors``, flush what they write and leave the
commit to the caller; they hand back frozen dataclasses (``contact_center.crm.views``).
"""

from contact_center.crm.contacts import CONTACT_OUTCOMES, HAND_CHANNELS, log_contact
from contact_center.crm.customers import customer_card, find_customers
from contact_center.crm.history import contact_history
from contact_center.crm.tasks import (
    cancel_task,
    complete_task,
    create_task,
    due_tasks,
    next_due_at,
    open_tasks_for_customer,
)
from contact_center.crm.views import (
    CaseView,
    CustomerCard,
    CustomerMatch,
    HistoryCursor,
    HistoryEntry,
    HistoryPage,
    PhoneView,
    TaskView,
)

__all__ = [
    "CONTACT_OUTCOMES",
    "HAND_CHANNELS",
    "CaseView",
    "CustomerCard",
    "CustomerMatch",
    "HistoryCursor",
    "HistoryEntry",
    "HistoryPage",
    "PhoneView",
    "TaskView",
    "cancel_task",
    "complete_task",
    "contact_history",
    "create_task",
    "customer_card",
    "due_tasks",
    "find_customers",
    "log_contact",
    "next_due_at",
    "open_tasks_for_customer",
]
