"""readings as a TimescaleDB hypertable (with its rows), when the server preloads TimescaleDB

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Creates the extension when this role may (else logs the operator step: a superuser runs
``CREATE EXTENSION timescaledb``), converts ``readings`` with ``migrate_data`` (up to 1 GiB;
a bigger table is left plain with the statement to run in a maintenance window in the log)
and enables compression (segment by sensor, newest first). A no-op on SQLite, on PostgreSQL without
TimescaleDB, and where it is installed but not preloaded. ``data.db.upgrade_schema`` repeats
the same idempotent step after every upgrade, so a database migrated before its server
preloaded TimescaleDB is converted later. The policies follow the settings and are set by the
worker (maintenance/ops/retention.py), not here.
"""

from alembic import op

from data.timescale import adopt_timescale

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    adopt_timescale(op.get_bind())


def downgrade() -> None:
    # Irreversible by design: a hypertable cannot be turned back into a plain table in place
    # (that is a copy into a new table), and 0009's schema works unchanged on a hypertable.
    pass
