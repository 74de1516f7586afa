"""A backup taken while the app writes restores to exactly what was stored at the time, on
SQLite, PostgreSQL and TimescaleDB (compressed chunks included); a failed restore changes
nothing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from services import NO_TIMESCALEDB, timescaledb_installed
from sqlalchemy import func, select, text

from config import load_settings
from data.backup import backup, restore
from data.db import Database, upgrade_schema
from data.fleet_queries import sensor_directory
from data.machine_series import sensor_history
from data.models import Machine, Reading, Ticket
from data.readings import insert_readings
from data.timescale import AGGREGATES, aggregates_in_use
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.retention import sync_timescale_policies

NOW = datetime.now(UTC).replace(microsecond=0)


def _count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Reading)))


def test_backup_then_restore_finds_the_data(db, tmp_path):
    _backup_change_restore(db, tmp_path)


@pytest.mark.skipif(not timescaledb_installed(), reason=NO_TIMESCALEDB)
def test_backup_then_restore_finds_the_data_on_timescaledb(timescale_postgres, tmp_path):
    db = Database(timescale_postgres.new_database())
    upgrade_schema(db.engine)
    _backup_change_restore(db, tmp_path, compress=True)
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM timescaledb_information.hypertables")) == 1
        chunks = "SELECT bool_or(is_compressed) FROM timescaledb_information.chunks"
        assert conn.scalar(text(chunks)) is True
    upgrade_schema(db.engine)  # and the app starts on it
    db.dispose()


@pytest.mark.skipif(not timescaledb_installed(), reason=NO_TIMESCALEDB)
def test_a_failed_restore_on_timescaledb_leaves_the_database_as_it_was(
    timescale_postgres, tmp_path
):
    db = Database(timescale_postgres.new_database())
    upgrade_schema(db.engine)
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=1), db)
    copy = backup(db.url, tmp_path / "backup.bin")
    broken = tmp_path / "broken.bin"
    broken.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    with db.session() as s:  # after the backup: a restore would remove it
        s.add(Ticket(machine_id=1, code="TEMP_HIGH", title="after", priority="HIGH"))
    db.dispose()
    with pytest.raises(subprocess.CalledProcessError):
        restore(db.url, broken)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Machine)) == 1
        assert s.scalar(select(Ticket.title)) == "after"
    upgrade_schema(db.engine)  # TimescaleDB's background jobs are back, the app starts
    db.dispose()


@pytest.mark.skipif(not timescaledb_installed(), reason=NO_TIMESCALEDB)
def test_timescaledb_backup_restores_into_a_fresh_database_with_aggregates_and_policies(
    timescale_postgres, tmp_path
):
    """The operator's path to a new server or database (docs/reliability.md): compressed
    chunks, the continuous aggregates and every policy come back, the series read the same."""
    db = Database(timescale_postgres.new_database())
    upgrade_schema(db.engine)
    sync_timescale_policies(db=db, raw_days=30, compress_after_days=1)  # the worker's start
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=1), db)
    hour = NOW.replace(minute=0, second=0)
    start = hour - timedelta(days=3)
    with db.session() as s:
        sensors = sorted(sensor_directory(session=s).values())
        rows = [
            (sid, start + timedelta(minutes=m), float((m * 31 + sid) % 97))
            for sid in sensors
            for m in range(3 * 1440)
        ]
        insert_readings(session=s, rows=rows)
    with db.engine.begin() as conn:
        conn.execute(text("SELECT compress_chunk(c) FROM show_chunks('readings') c"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in AGGREGATES:  # materialized, as the refresh policies leave them
            conn.execute(
                text(f"CALL refresh_continuous_aggregate('{name}', NULL, :end)"), {"end": hour}
            )
    before = _timescale_facts(db, sensors, start, hour)
    assert before["compressed"] > 0 and before["materialized"] > 0
    copy = backup(db.url, tmp_path / "backup.bin")
    db.dispose()

    fresh = Database(timescale_postgres.new_database())  # empty: no extension, no tables
    restore(fresh.url, copy)
    assert _timescale_facts(fresh, sensors, start, hour) == before
    with fresh.engine.connect() as conn:  # timescaledb_post_restore() ended restoring mode
        assert conn.scalar(text("SHOW timescaledb.restoring")) == "off"
    upgrade_schema(fresh.engine)  # the app starts on it: nothing added twice
    assert aggregates_in_use(fresh.engine)
    assert _timescale_facts(fresh, sensors, start, hour) == before
    with fresh.session() as s:  # and it takes readings, in the series at once (real-time)
        insert_readings(session=s, rows=[(sensors[0], NOW - timedelta(seconds=1), 500.0)])
        frame = sensor_history(
            session=s,
            sensor_ids=sensors,
            start=hour - timedelta(days=3),
            end=hour + timedelta(hours=1),
            max_points=72,
        )
    assert frame["hi"].max() == 500.0
    fresh.dispose()


def _timescale_facts(db: Database, sensors: list[int], start: datetime, end: datetime) -> dict:
    """What a restore must bring back: readings, chunks, aggregates, policies, series."""
    with db.engine.connect() as conn:
        facts = {
            "readings": conn.execute(text("SELECT count(*), sum(value) FROM readings")).one(),
            "compressed": conn.scalar(
                text("SELECT count(*) FROM timescaledb_information.chunks WHERE is_compressed")
            ),
            "materialized": sum(
                conn.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in conn.scalars(
                    text(
                        "SELECT format('%I.%I', materialization_hypertable_schema,"
                        " materialization_hypertable_name)"
                        " FROM timescaledb_information.continuous_aggregates"
                    )
                )
            ),
            "policies": sorted(
                (name, proc, json.dumps(config, sort_keys=True))
                for name, proc, config in conn.execute(
                    text(
                        "SELECT hypertable_name, proc_name, config - 'hypertable_id'"
                        " - 'mat_hypertable_id' FROM timescaledb_information.jobs"
                        " WHERE hypertable_name IS NOT NULL"
                    )
                )
            ),
        }
    with db.session() as s:
        for points in (72, 432):  # hourly buckets; ten-minute ones
            frame = sensor_history(
                session=s, sensor_ids=sensors, start=start, end=end, max_points=points
            )
            facts[f"series_{points}"] = frame.round({"mean": 9}).to_dict("list")
    return facts


def _backup_change_restore(db: Database, tmp_path, compress: bool = False) -> None:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=2), db)
    with db.session() as s:
        sensor = sensor_directory(session=s)[("motor-01", "temperature")]
        insert_readings(
            session=s, rows=[(sensor, NOW - timedelta(seconds=i), 55.0) for i in range(500)]
        )
        s.add(Ticket(machine_id=1, code="TEMP_HIGH", title="kept", priority="HIGH"))
    if compress:
        with db.engine.begin() as conn:
            conn.execute(text("SELECT compress_chunk(c) FROM show_chunks('readings') c"))
    copy = backup(db.url, tmp_path / "backup.bin")
    assert copy.stat().st_size > 0
    with db.session() as s:  # after the backup: more readings, the ticket gone
        insert_readings(
            session=s, rows=[(sensor, NOW + timedelta(seconds=i), 1.0) for i in range(1, 50)]
        )
        s.execute(Ticket.__table__.delete())
    db.dispose()
    restore(db.url, copy)
    assert _count(db) == 500
    with db.session() as s:
        assert s.scalar(select(Ticket.title)) == "kept"


def test_sqlite_backup_is_consistent_while_the_app_writes(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    upgrade_schema(db.engine)
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=1), db)
    with db.session() as s:
        sensor = sensor_directory(session=s)[("motor-01", "rpm")]
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            with db.session() as s:
                insert_readings(
                    session=s,
                    rows=[(sensor, NOW + timedelta(seconds=i + k), 1480.0) for k in range(100)],
                )
            i += 100

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copies = [backup(db.url, tmp_path / f"copy-{n}.sqlite3") for n in range(3)]
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
            assert rows % 100 == 0  # whole transactions only
    db.dispose()
