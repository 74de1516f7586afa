"""alarms point at the ticket they opened or joined; when a ticket's priority last rose

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # a plain ADD COLUMN with its reference inline: alembic would rebuild alarms (batch
        # mode) to add a constraint, and tickets point at alarms
        op.execute(
            "ALTER TABLE alarms ADD COLUMN ticket_id INTEGER "
            "CONSTRAINT fk_alarms_ticket_id REFERENCES tickets (id)"
        )
    else:
        op.add_column("alarms", sa.Column("ticket_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_alarms_ticket_id", "alarms", "tickets", ["ticket_id"], ["id"])
    op.create_index("ix_alarms_ticket", "alarms", ["ticket_id"], unique=False)
    op.add_column("tickets", sa.Column("priority_at", sa.DateTime(timezone=True), nullable=True))
    # the alarms that opened a ticket already say so from the ticket's side
    op.execute(
        "UPDATE alarms SET ticket_id = "
        "(SELECT MIN(tickets.id) FROM tickets WHERE tickets.alarm_id = alarms.id)"
    )
    # an active alarm raised while its machine had a ticket open for the same code belongs
    # to that ticket: a worse reading must still raise its priority
    op.execute(
        "UPDATE alarms SET ticket_id = ("
        "SELECT MIN(tickets.id) FROM tickets WHERE tickets.machine_id = alarms.machine_id "
        "AND tickets.code = alarms.code AND tickets.plan_id IS NULL "
        "AND tickets.status <> 'RESOLVED') "
        "WHERE ticket_id IS NULL AND cleared_at IS NULL AND NOT silenced"
    )


def downgrade() -> None:
    op.drop_column("tickets", "priority_at")
    op.drop_index("ix_alarms_ticket", table_name="alarms")
    if op.get_bind().dialect.name == "sqlite":  # the inline reference goes with the column
        op.execute("ALTER TABLE alarms DROP COLUMN ticket_id")
    else:
        op.drop_constraint("fk_alarms_ticket_id", "alarms", type_="foreignkey")
        op.drop_column("alarms", "ticket_id")
