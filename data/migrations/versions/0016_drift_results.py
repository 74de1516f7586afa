"""drift_results: the drift job's statistics per check, machine type and feature

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_results",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("machine_type", sa.String(length=32), nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("psi", sa.Float(), nullable=True),
        sa.Column("ks_stat", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("missing_rate", sa.Float(), nullable=True),
        sa.Column("out_of_range_rate", sa.Float(), nullable=True),
        sa.Column("n_reference", sa.Integer(), nullable=False),
        sa.Column("n_current", sa.Integer(), nullable=False),
        sa.Column("worst_machine_id", sa.Integer(), nullable=True),
        sa.Column("reference_shares", sa.JSON(), nullable=False),
        sa.Column("current_shares", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_drift_results_type_checked", "drift_results", ["machine_type", "checked_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_drift_results_type_checked", table_name="drift_results")
    op.drop_table("drift_results")
