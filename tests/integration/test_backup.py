"""A backup taken while the app writes restores to exactly what was stored at the time."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from config import load_settings
from data.backup import backup, restore
from data.db import Database, upgrade_schema
from data.fleet import sensor_directory
from data.models import Reading, Ticket
from data.readings import insert_readings
from worker import seed_demo

NOW = datetime.now(UTC).replace(microsecond=0)


def _count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Reading)))


def test_backup_then_restore_finds_the_data(db, tmp_path):
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=2), db)
    with db.session() as s:
        sensor = sensor_directory(session=s)[("motor-01", "temperature")]
        insert_readings(
            session=s, rows=[(sensor, NOW - timedelta(seconds=i), 55.0) for i in range(500)]
        )
        s.add(Ticket(machine_id=1, code="TEMP_HIGH", title="kept", priority="HIGH"))
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
