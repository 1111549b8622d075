"""the wallboard: alert thresholds per queue; supervisor actions recorded (who, when)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ALERTS = (
    ("alert_waiting_amber", sa.Integer(), "3"),
    ("alert_waiting_red", sa.Integer(), "6"),
    ("alert_longest_wait_amber", sa.Float(), "60"),
    ("alert_longest_wait_red", sa.Float(), "120"),
    ("alert_service_level_amber", sa.Float(), "0.8"),
    ("alert_service_level_red", sa.Float(), "0.6"),
)


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        for name, kind, default in ALERTS:
            batch.add_column(sa.Column(name, kind, nullable=True, server_default=default))
    op.create_table(
        "supervisor_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target_user_id", sa.Integer(), nullable=True),
        sa.Column("target_interface", sa.String(length=80), nullable=True),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_supervisor_actions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["users.id"],
            name=op.f("fk_supervisor_actions_target_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_supervisor_actions_interaction_id_interactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisor_actions")),
    )
    op.create_index("ix_supervisor_actions_at", "supervisor_actions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_supervisor_actions_at", table_name="supervisor_actions")
    op.drop_table("supervisor_actions")
    with op.batch_alter_table("queues") as batch:
        for name, _kind, _default in reversed(ALERTS):
            batch.drop_column(name)
