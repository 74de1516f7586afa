"""model lab runs; a resolution's cause and action

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_STATUS = ("queued", "running", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "lab_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="lab_run_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("curve", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("anomaly_version", sa.Integer(), nullable=True),
        sa.Column("failure_version", sa.Integer(), nullable=True),
        sa.Column("output_dir", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lab_runs_status", "lab_runs", ["status", "created_at"])
    # plain ADD COLUMN (no batch): SQLite would rebuild tickets, which other tables point at
    op.add_column("tickets", sa.Column("cause", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "tickets", sa.Column("action_taken", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("action_taken")
        batch_op.drop_column("cause")
    op.drop_index("ix_lab_runs_status", table_name="lab_runs")
    op.drop_table("lab_runs")
