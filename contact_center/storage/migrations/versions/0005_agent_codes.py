"""pause reasons and disposition codes (agent_codes), with defaults; queues' wrap-up

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DEFAULTS = [
    ("pause_reason", "break", "Break"),
    ("pause_reason", "lunch", "Lunch"),
    ("pause_reason", "training", "Training"),
    ("pause_reason", "back_office", "Back office"),
    ("disposition", "resolved", "Resolved"),
    ("disposition", "callback_needed", "Callback needed"),
    ("disposition", "escalated", "Escalated"),
    ("disposition", "wrong_number", "Wrong number"),
    ("disposition", "sales_opportunity", "Sales opportunity"),
]


def upgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.add_column(
            sa.Column("wrapup_seconds", sa.Integer(), server_default="0", nullable=False)
        )
    table = op.create_table(
        "agent_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("pause_reason", "disposition", name="agent_code_kind", native_enum=False),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_codes")),
        sa.UniqueConstraint("kind", "code", name="uq_agent_codes_kind_code"),
    )
    op.bulk_insert(
        table,
        [
            {"kind": kind, "code": code, "label": label, "position": i, "active": True}
            for i, (kind, code, label) in enumerate(DEFAULTS)
        ],
    )


def downgrade() -> None:
    op.drop_table("agent_codes")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("wrapup_seconds")
