"""call notes typed on the agent desk (kept by call until the interaction exists); when a
task's due reminder was sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=32), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_call_notes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_call_notes_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_notes")),
        sa.UniqueConstraint("node", "linkedid", "user_id", name="uq_call_notes_call_user"),
    )
    with op.batch_alter_table("call_notes", schema=None) as batch_op:
        batch_op.create_index("ix_call_notes_applied_at", ["applied_at"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("reminded_at")
    with op.batch_alter_table("call_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_call_notes_applied_at")
    op.drop_table("call_notes")
