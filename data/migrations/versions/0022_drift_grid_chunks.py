"""drift_grid_chunks: the drift job's per-step means kept between checks

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_grid_chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("step_s", sa.Float(), nullable=False),
        sa.Column("first_bucket", sa.BigInteger(), nullable=False),
        sa.Column("last_bucket", sa.BigInteger(), nullable=False),
        sa.Column("readings", sa.BigInteger(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("machine_ids", sa.LargeBinary(), nullable=False),
        sa.Column("values", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_drift_grid_chunks_first", "drift_grid_chunks", ["step_s", "first_bucket"])


def downgrade() -> None:
    op.drop_index("ix_drift_grid_chunks_first", table_name="drift_grid_chunks")
    op.drop_table("drift_grid_chunks")
