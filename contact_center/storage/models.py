"""Data model v1: customers and their numbers, users, queues, interactions and their events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TIER_VALUES = ("standard", "vip")
ROLE_VALUES = ("agent", "supervisor", "admin")
LANGUAGE_VALUES = ("pl", "uk", "en")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite too)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class User(Base):
    """An agent, supervisor or admin; agents have the phone interface they answer on."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(Enum(*ROLE_VALUES, name="user_role", native_enum=False))
    interface: Mapped[str | None] = mapped_column(String(80), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())

    memberships: Mapped[list[QueueMembership]] = relationship(back_populates="user")


class Queue(Base):
    """A call queue; `name` is the Asterisk queue name (queues.conf)."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    service_level_seconds: Mapped[int] = mapped_column(default=20)
    wrapup_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    """The queue's wrapuptime in queues.conf, mirrored: how long an agent shows as in
    wrap-up after a call (Asterisk reports no wrap-up of its own)."""
    timezone: Mapped[str | None] = mapped_column(String(64))
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holidays: Mapped[list[str]] = mapped_column(default=list)
    after_hours: Mapped[str] = mapped_column(String(16), default="message")
    # the wallboard's alerts: a tile turns amber or red when callers waiting or the longest
    # wait (seconds) reach these, or today's service level (0..1) falls below; NULL: no alert
    alert_waiting_amber: Mapped[int | None] = mapped_column(default=3, server_default="3")
    alert_waiting_red: Mapped[int | None] = mapped_column(default=6, server_default="6")
    alert_longest_wait_amber: Mapped[float | None] = mapped_column(
        Float, default=60.0, server_default="60"
    )
    alert_longest_wait_red: Mapped[float | None] = mapped_column(
        Float, default=120.0, server_default="120"
    )
    alert_service_level_amber: Mapped[float | None] = mapped_column(
        Float, default=0.8, server_default="0.8"
    )
    alert_service_level_red: Mapped[float | None] = mapped_column(
        Float, default=0.6, server_default="0.6"
    )

    memberships: Mapped[list[QueueMembership]] = relationship(back_populates="queue")


class QueueMembership(Base):
    """Which queues an agent works, with a penalty (lower rings first)."""

    __tablename__ = "queue_memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    penalty: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship(back_populates="memberships")
    queue: Mapped[Queue] = relationship(back_populates="memberships")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(
        Enum(*TIER_VALUES, name="customer_tier", native_enum=False), default="standard"
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    tags: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    overdue_balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.now()
    )

    account_manager: Mapped[User | None] = relationship()
    phone_numbers: Mapped[list[PhoneNumber]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )


class PhoneNumber(Base):
    """A customer's number in E.164. One number may belong to several customers
    (a shared switchboard), so uniqueness is per customer and lookup is by number."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        UniqueConstraint("e164", "customer_id", name="uq_phone_numbers_e164_customer"),
        Index("ix_phone_numbers_customer_id", "customer_id"),  # a customer's numbers (card)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(32), default="mobile")

    customer: Mapped[Customer] = relationship(back_populates="phone_numbers")


CHANNEL_VALUES = ("voice", "email", "meeting", "note")
TASK_KIND_VALUES = ("callback", "follow_up")
TASK_STATUS_VALUES = ("open", "done", "cancelled")


class Interaction(Base):
    """One contact with a customer (or an unknown number): a call from arrival to hang-up,
    or a contact logged by hand (an e-mail, a meeting, a note).

    A call is keyed by the Asterisk node and its linkedid, so calls from several nodes never
    collide and a call is written once. A contact logged by hand has neither (NULL).
    `complete` is False when the bridge could not see the whole call (it ended while the
    bridge was away); the figures it could not see are NULL."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("node", "linkedid", name="uq_interactions_node_linkedid"),
        Index("ix_interactions_customer_started", "customer_id", "started_at"),
        Index("ix_interactions_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str | None] = mapped_column(String(32))
    linkedid: Mapped[str | None] = mapped_column(String(64))
    uniqueid: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(
        Enum(*CHANNEL_VALUES, name="interaction_channel", native_enum=False), default="voice"
    )
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_e164: Mapped[str | None] = mapped_column(String(20))
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    dialed_number: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    agent_interface: Mapped[str | None] = mapped_column(String(80))
    route_rule: Mapped[str | None] = mapped_column(String(64))
    route_reason: Mapped[str | None] = mapped_column(String(400))
    started_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    hold_seconds: Mapped[float | None] = mapped_column(Float)
    wrapup_seconds: Mapped[float | None] = mapped_column(Float)
    transfers: Mapped[int] = mapped_column(default=0, server_default="0")
    outcome: Mapped[str] = mapped_column(String(32))
    hangup_by: Mapped[str | None] = mapped_column(String(16))
    complete: Mapped[bool] = mapped_column(default=True, server_default=true())
    disposition: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    customer: Mapped[Customer | None] = relationship()
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])
    events: Mapped[list[InteractionEvent]] = relationship(
        back_populates="interaction", cascade="all, delete-orphan", order_by="InteractionEvent.seq"
    )


class Task(Base):
    """A follow-up or a callback owed to a customer (or to a number not yet a customer),
    due at a time, for an agent or for anyone in a queue."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_status_due", "assigned_to_id", "status", "due_at"),
        Index("ix_tasks_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(Enum(*TASK_KIND_VALUES, name="task_kind", native_enum=False))
    status: Mapped[str] = mapped_column(
        Enum(*TASK_STATUS_VALUES, name="task_status", native_enum=False), default="open"
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    phone_number: Mapped[str] = mapped_column(String(64), default="")
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL")
    )
    queue: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[dt.datetime]
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]
    """When the reminder that it is due was sent to the agent's pages (once, by one web
    process: the one whose UPDATE claimed it)."""

    customer: Mapped[Customer | None] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])


class InteractionEvent(Base):
    """One step of an interaction (arrived, routed, queued, ringing, connected, ...)."""

    __tablename__ = "interaction_events"
    __table_args__ = (UniqueConstraint("interaction_id", "seq", name="uq_interaction_events_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_interface: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    interaction: Mapped[Interaction] = relationship(back_populates="events")


class UserSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so
    a copy of the database does not log anyone in. `expires_at` is the earlier of the idle
    deadline and the absolute one, so expired rows are found by one index."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed login for a username (known or not), for the lockout; old rows are
    deleted as logins come in."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_failed_at", "username", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[dt.datetime] = mapped_column(index=True)


class Case(Base):
    """A customer's support case; an open one can steer routing."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(
        Enum("open", "closed", name="case_status", native_enum=False), default="open"
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]


class RoutingRule(Base):
    """One routing rule, in order: conditions and actions as validated JSON
    (see contact_center/routing/rules.py for their vocabulary)."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


AGENT_CODE_KINDS = ("pause_reason", "disposition")


class AgentCode(Base):
    """One entry of a configurable list agents pick from: a pause reason (sent to Asterisk
    as QueuePause's Reason) or a disposition code (kept on the interaction). Retired
    entries stay (`active` False) so what was recorded with them keeps its meaning."""

    __tablename__ = "agent_codes"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_agent_codes_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        Enum(*AGENT_CODE_KINDS, name="agent_code_kind", native_enum=False)
    )
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())


class CallNote(Base):
    """What an agent typed on the desk about a call (notes, a disposition, the customer the
    number was linked to), kept by (node, linkedid) because the call's interaction is written
    by the bridge only once the call ends. Copied onto the interaction as soon as it exists
    (`applied_at`), by the web request itself or by a web process's sweep."""

    __tablename__ = "call_notes"
    __table_args__ = (
        UniqueConstraint("node", "linkedid", "user_id", name="uq_call_notes_call_user"),
        Index("ix_call_notes_applied_at", "applied_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(32))
    linkedid: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    notes: Mapped[str] = mapped_column(Text, default="")
    disposition: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[dt.datetime | None]


AGENT_PERIOD_KINDS = ("logged_in", "paused")


class AgentPeriod(Base):
    """A stretch of an agent phone's time, written by the bridge from the agent state:
    ``logged_in`` (in at least one queue) or ``paused`` (in every queue it is in, with
    Asterisk's reason). ``ended_at`` is NULL while it lasts. Reports take logged-in and
    pause time (by reason) and so occupancy from these rows."""

    __tablename__ = "agent_periods"
    __table_args__ = (
        Index("ix_agent_periods_started_at", "started_at"),
        Index("ix_agent_periods_open", "node", "agent_interface", "kind", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(32))
    agent_interface: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(
        Enum(*AGENT_PERIOD_KINDS, name="agent_period_kind", native_enum=False)
    )
    reason: Mapped[str] = mapped_column(String(80), default="", server_default="")
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class SupervisorAction(Base):
    """What a supervisor or admin did from the wallboard, with who and when: listen, whisper,
    barge, pause, resume, log out an agent, call back or assign an abandoned caller.
    `outcome` is "ok" or the refusal's stable id; `detail` the reason, number or mode."""

    __tablename__ = "supervisor_actions"
    __table_args__ = (Index("ix_supervisor_actions_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    target_interface: Mapped[str | None] = mapped_column(String(80))
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(String(200), default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(32))
