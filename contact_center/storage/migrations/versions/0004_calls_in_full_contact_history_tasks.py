"""calls in full, contact history, tasks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:41:25.836236
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("callback", "follow_up", name="task_kind", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "done", "cancelled", name="task_status", native_enum=False),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("phone_number", sa.String(length=64), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"],
            ["users.id"],
            name=op.f("fk_tasks_assigned_to_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_tasks_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tasks_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_tasks_interaction_id_interactions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_assignee_status_due", ["assigned_to_id", "status", "due_at"], unique=False
        )
        batch_op.create_index("ix_tasks_customer", ["customer_id"], unique=False)

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("caller_e164", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("ring_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("hold_seconds", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("wrapup_seconds", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("transfers", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("complete", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("subject", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.alter_column("node", existing_type=sa.VARCHAR(length=32), nullable=True)
        batch_op.alter_column("linkedid", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.alter_column("uniqueid", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.alter_column(
            "channel",
            existing_type=sa.VARCHAR(length=16),
            type_=sa.Enum(
                "voice", "email", "meeting", "note", name="interaction_channel", native_enum=False
            ),
            existing_nullable=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_interactions_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_interactions_created_by_id_users"), type_="foreignkey"
        )
        batch_op.alter_column(
            "channel",
            existing_type=sa.Enum(
                "voice", "email", "meeting", "note", name="interaction_channel", native_enum=False
            ),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )
        batch_op.alter_column("uniqueid", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column("linkedid", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.alter_column("node", existing_type=sa.VARCHAR(length=32), nullable=False)
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("subject")
        batch_op.drop_column("complete")
        batch_op.drop_column("transfers")
        batch_op.drop_column("wrapup_seconds")
        batch_op.drop_column("hold_seconds")
        batch_op.drop_column("ring_seconds")
        batch_op.drop_column("caller_e164")

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_customer")
        batch_op.drop_index("ix_tasks_assignee_status_due")

    op.drop_table("tasks")
