"""downtime, alarm silences and reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("csv", sa.LargeBinary(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "period_start", name="uq_reports_kind_period"),
    )
    op.create_table(
        "alarm_silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alarm_silences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alarm_silences_machine_ends", ["machine_id", "ends_at"], unique=False
        )

    op.create_table(
        "downtime",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("breakdown", "planned", name="downtime_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("downtime", schema=None) as batch_op:
        batch_op.create_index(
            "ix_downtime_machine_started", ["machine_id", "started_at"], unique=False
        )

    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cleared_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("silenced", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_foreign_key("fk_alarms_cleared_by_users", "users", ["cleared_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alarms_cleared_by_users", type_="foreignkey")
        batch_op.drop_column("silenced")
        batch_op.drop_column("cleared_by")

    with op.batch_alter_table("downtime", schema=None) as batch_op:
        batch_op.drop_index("ix_downtime_machine_started")

    op.drop_table("downtime")
    with op.batch_alter_table("alarm_silences", schema=None) as batch_op:
        batch_op.drop_index("ix_alarm_silences_machine_ends")

    op.drop_table("alarm_silences")
    op.drop_table("reports")
