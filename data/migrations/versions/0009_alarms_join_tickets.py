"""alarms point at the ticket they opened or joined

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
    # the alarms that opened a ticket already say so from the ticket's side
    op.execute(
        "UPDATE alarms SET ticket_id = "
        "(SELECT MIN(tickets.id) FROM tickets WHERE tickets.alarm_id = alarms.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alarms_ticket_id", type_="foreignkey")
        batch_op.drop_column("ticket_id")
