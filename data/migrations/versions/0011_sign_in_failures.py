"""failed sign-ins, counted per account and address and per address by every web process

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sign_in_failures_pair", "sign_in_failures", ["account", "address", "at"], unique=False
    )
    op.create_index(
        "ix_sign_in_failures_address", "sign_in_failures", ["address", "at"], unique=False
    )
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("sign_in_failures")  # its indexes go with it
