"""alarms carry their numbers typed: the value at raise time, the limit or threshold it
crossed, the unit, and the machine's failure probability and remaining life (raised and
latest); older alarms keep null and their message

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_FLOATS = (
    "raised_value",
    "limit_value",
    "failure_probability",
    "rul_hours",
    "raised_failure_probability",
    "raised_rul_hours",
)


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no constraint): SQLite needs no rebuild of alarms, which
    # tickets point at
    for name in _FLOATS:
        op.add_column("alarms", sa.Column(name, sa.Float(), nullable=True))
    op.add_column("alarms", sa.Column("unit", sa.String(length=16), nullable=True))
    op.add_column("alarms", sa.Column("values_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for name in ("values_at", "unit", *reversed(_FLOATS)):
        op.drop_column("alarms", name)
