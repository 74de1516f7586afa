"""TimescaleDB continuous aggregates of readings (ten-minute and hourly, real-time) where the
server preloads TimescaleDB

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

Where ``readings`` is a hypertable (state ``active``): ``readings_10m_agg`` and
``readings_1h_agg`` with their refresh policies, through the same idempotent
``adopt_timescale`` that 0010 runs and ``data.db.upgrade_schema`` repeats after every upgrade
(so a database converted later gets them at that start). They replace the hand-made
``readings_10m`` rollups there; the table stays, with what was rolled up before. A no-op on
SQLite, on plain PostgreSQL and where TimescaleDB is installed but not preloaded.
"""

from alembic import op

from data.timescale import AGGREGATES, adopt_timescale, timescale_state

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    adopt_timescale(op.get_bind())


def downgrade() -> None:
    # back to the hand-made rollups: the rollup job fills readings_10m again from raw
    # readings (what retention removed since stays only in the dropped aggregates)
    bind = op.get_bind()
    if timescale_state(bind) == "active":
        for name in AGGREGATES:
            op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name} CASCADE")
