"""sessions kept on the server (user_sessions), and password-reset requests counted with
failed sign-ins (sign_in_failures.kind)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_user_sessions_user", "user_sessions", ["user_id", "ended_at"])
    # plain ADD COLUMN with a default: SQLite needs no rebuild
    op.add_column(
        "sign_in_failures",
        sa.Column("kind", sa.String(length=16), server_default="sign_in", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("sign_in_failures") as batch:
        batch.drop_column("kind")
    op.drop_table("user_sessions")  # its index goes with it
