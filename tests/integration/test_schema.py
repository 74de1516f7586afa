"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from data.db import _MIGRATIONS, Database, upgrade_schema
from data.models import Base


def test_migrations_match_the_models(db: Database):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_readings_are_keyed_naturally(db: Database):
    upgrade_schema(db.engine)  # a second start changes nothing
    pk = inspect(db.engine).get_pk_constraint("readings")
    assert pk["constrained_columns"] == ["sensor_id", "ts"]


def test_a_populated_database_upgrades_from_an_older_release(db: Database, tmp_path):
    """Tables other tables point at (tickets, users) must not be rebuilt on SQLite: with
    data in them, the rebuild fails its foreign keys."""
    if db.dialect == "sqlite":
        target = Database(f"sqlite:///{tmp_path / 'older.sqlite3'}")
    else:  # the same server, the schema emptied
        target = db
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with target.engine.begin() as conn:  # the release before the manager's pages, in use
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        for row in (
            "users (id, username, password_hash, role, active, created_at)"
            " VALUES (1, 'old', 'x', 'technician', true, '2026-01-01')",
            "machines (id, name, type, location, line, created_at)"
            " VALUES (1, 'm', 'pump', '', '', '2026-01-01')",
            "alarms (id, machine_id, code, severity, source, message, raised_at, last_seen_at)"
            " VALUES (1, 1, 'X', 'WARNING', 'rule', 'hot', '2026-01-01', '2026-01-01')",
            "alarms (id, machine_id, code, severity, source, message, raised_at, last_seen_at)"
            " VALUES (2, 1, 'Y', 'WARNING', 'rule', 'loud', '2026-01-01', '2026-01-01')",
            "tickets (id, machine_id, code, title, priority, status, technician_id,"
            " assignment_reason, created_at, resolution, alarm_id)"
            " VALUES (1, 1, 'X', 't', 'HIGH', 'OPEN', 1, '', '2026-01-01', '', 1)",
            "downtime (machine_id, kind, started_at, ticket_id, source, note, created_at)"
            " VALUES (1, 'breakdown', '2026-01-01', 1, 'ticket', '', '2026-01-01')",
        ):
            conn.execute(text(f"INSERT INTO {row}"))
    upgrade_schema(target.engine)
    with target.engine.connect() as conn:
        assert conn.execute(text("SELECT title FROM tickets")).scalar() == "t"
        assert conn.execute(text("SELECT username FROM users")).scalar() == "old"
        # an alarm that opened a ticket points back at it; one that did not, at nothing
        links = conn.execute(text("SELECT id, ticket_id FROM alarms ORDER BY id")).all()
        assert [tuple(r) for r in links] == [(1, 1), (2, None)]
    if target is not db:
        target.dispose()


def test_the_latest_migration_goes_down_and_up_again(db: Database):
    """An operator rolling a release back runs the downgrade: it must work on both."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()

    def state() -> tuple[str, list]:
        with db.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return version, compare_metadata(MigrationContext.configure(conn), Base.metadata)

    # down one migration at a time until the models are ahead of the schema again: a
    # storage-only migration (0010's hypertable) changes no table the models describe
    for _ in range(3):
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
        version, diff = state()
        if diff:
            break
    assert version != head and diff != []
    upgrade_schema(db.engine)
    assert state() == (head, [])
