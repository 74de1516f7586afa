"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from data.db import Database, upgrade_schema
from data.models import Base


def test_migrations_match_the_models(db: Database):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_readings_are_keyed_naturally(db: Database):
    upgrade_schema(db.engine)  # a second start changes nothing
    pk = inspect(db.engine).get_pk_constraint("readings")
    assert pk["constrained_columns"] == ["sensor_id", "ts"]
