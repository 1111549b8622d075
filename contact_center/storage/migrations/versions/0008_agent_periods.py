"""agent periods: logged-in and paused stretches of each agent phone, for reports

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=32), nullable=False),
        sa.Column("agent_interface", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("logged_in", "paused", name="agent_period_kind", native_enum=False),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=80), server_default="", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_periods_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_periods")),
    )
    op.create_index("ix_agent_periods_started_at", "agent_periods", ["started_at"])
    op.create_index(
        "ix_agent_periods_open", "agent_periods", ["node", "agent_interface", "kind", "ended_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_agent_periods_open", table_name="agent_periods")
    op.drop_index("ix_agent_periods_started_at", table_name="agent_periods")
    op.drop_table("agent_periods")
