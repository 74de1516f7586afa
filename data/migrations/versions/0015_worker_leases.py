"""several workers: leases for fleet-wide jobs and workers' presence; job runs say which
worker ran them; lab runs and notifications say which worker claimed them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # plain ADD COLUMN: SQLite needs no rebuild of the tables others point at
    op.add_column(
        "job_runs",
        sa.Column("worker", sa.String(length=128), nullable=False, server_default=""),
    )
    op.add_column("lab_runs", sa.Column("claimed_by", sa.String(length=128), nullable=True))
    op.add_column("notifications", sa.Column("claimed_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "claimed_by")
    op.drop_column("lab_runs", "claimed_by")
    op.drop_column("job_runs", "worker")
    op.drop_table("leases")
