"""TimescaleDB is used when the server preloads it, and only then: a server with the package
merely installed runs on plain PostgreSQL; a preloaded one gets a compressed hypertable with
compression and retention policies, on a fresh install and on an existing populated database
converted in place. Skipped, with the reason, where TimescaleDB is not installed."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from factories import migrated, wait_until
from services import NO_TIMESCALEDB, timescaledb_installed
from sqlalchemy import func, select, text
from timescale_jobs import job_configs, jobs_all_ran

from config import load_settings
from data import timescale
from data.db import Database, upgrade_schema
from data.fleet_queries import sensor_directory
from data.models import Reading, ReadingRollup
from data.readings import insert_readings
from data.timescale import timescale_state
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.retention import apply_retention, sync_timescale_policies

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
needs_timescaledb = pytest.mark.skipif(not timescaledb_installed(), reason=NO_TIMESCALEDB)


def _sensor(db: Database, tmp_path) -> int:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=1), db)
    with db.session() as s:
        return sensor_directory(session=s)[("motor-01", "vibration")]


def _hypertables(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.scalars(text("SELECT hypertable_name FROM timescaledb_information.hypertables"))
        )


def _policies(db: Database) -> dict[str, dict]:
    return job_configs(db, where="hypertable_name = 'readings'", key="proc_name")


def _first_runs_done(db: Database) -> bool:
    return jobs_all_ran(db, where="j.hypertable_name = 'readings'")


def _readings(db: Database) -> tuple[int, float]:
    with db.session() as s:
        n, total = s.execute(select(func.count(), func.sum(Reading.value))).one()
    return int(n), float(total or 0)


def _hours(sensor: int, start: datetime, hours: int) -> list[tuple[int, datetime, float]]:
    """One reading a minute for ``hours`` hours from ``start``."""
    return [(sensor, start + timedelta(minutes=m), float(m % 17)) for m in range(hours * 60)]


def test_installed_but_not_preloaded_server_runs_on_plain_postgres(postgres, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="data.timescale")
    db = migrated(postgres.new_database())
    expected = "available-not-preloaded" if timescaledb_installed() else "absent"
    assert timescale_state(db.engine) == expected
    said = [r.message for r in caplog.records if r.message.startswith("storage:")]
    assert len(said) == 1 and "plain PostgreSQL" in said[0]
    assert db.storage() == {  # what /readyz says
        "backend": "postgresql",
        "timescaledb": expected,
        "note": said[0].removeprefix("storage: "),
    }
    with db.engine.connect() as conn:
        assert not conn.scalar(text("SELECT count(*) FROM pg_extension WHERE extname LIKE 'ti%'"))
        assert conn.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'readings'")) == "r"
    sensor = _sensor(db, tmp_path)
    with db.session() as s:
        insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(days=12), 1))
    outcome = apply_retention(db=db, now=NOW, raw_days=10, rollup_days=0)
    assert outcome.readings_removed == 60  # the hand-made retention, row by row
    db.dispose()


@needs_timescaledb
def test_fresh_install_on_preloaded_server_gives_a_compressed_hypertable_with_policies(
    timescale_postgres, tmp_path
):
    db = migrated(timescale_postgres.new_database())
    assert timescale_state(db.engine) == "active"
    assert db.storage()["backend"] == "timescaledb"  # what /readyz says
    assert _hypertables(db) == ["readings"]
    sensor = _sensor(db, tmp_path)
    apply_retention(db=db, now=NOW, raw_days=30, rollup_days=0, compress_after_days=1)
    policies = _policies(db)
    assert policies["policy_compression"]["compress_after"] == "1 day"
    assert policies["policy_retention"]["drop_after"] == "31 days"  # a day behind the job
    with db.engine.connect() as conn:
        compression = conn.execute(
            text(
                "SELECT segmentby, orderby FROM timescaledb_information"
                ".hypertable_compression_settings WHERE hypertable = 'readings'::regclass"
            )
        ).one()
    assert tuple(compression) == ("sensor_id", "ts DESC")
    with db.session() as s:  # the app's idempotent bulk insert works on it
        rows = _hours(sensor, NOW - timedelta(hours=2), 1)
        assert insert_readings(session=s, rows=rows + rows[:10]) == 60
    db.dispose()


@needs_timescaledb
def test_compressed_chunks_take_late_and_redelivered_readings_and_retention_drops_them(
    timescale_postgres, tmp_path
):
    db = migrated(timescale_postgres.new_database())
    # the policies exist first and have had their first run (a new job runs at once), so
    # what follows is the retention job's doing, not a policy's racing it
    sync_timescale_policies(db=db, raw_days=10, compress_after_days=1)
    assert wait_until(lambda: _first_runs_done(db), timeout=30)
    sensor = _sensor(db, tmp_path)
    old = _hours(sensor, NOW - timedelta(days=12), 1)  # hour-aligned: one chunk each
    recent = _hours(sensor, NOW - timedelta(days=3), 1)
    with db.session() as s:
        insert_readings(session=s, rows=old + recent)
    with db.engine.begin() as conn:
        compressed = conn.scalars(
            text("SELECT compress_chunk(c) FROM show_chunks('readings') c")
        ).all()
    assert len(compressed) == 2
    late = [(sensor, NOW - timedelta(days=3) + timedelta(seconds=30), 99.0)]
    with db.session() as s:  # a redelivery into a compressed chunk, and a late reading
        assert insert_readings(session=s, rows=recent[:50] + late) == 1
    assert _readings(db)[0] == 60 + 60 + 1
    outcome = apply_retention(db=db, now=NOW, raw_days=10, rollup_days=0)
    assert outcome.readings_removed == 60  # the old day's chunk, dropped whole
    assert _readings(db)[0] == 61
    with db.session() as s:  # no hand-made rollups: the continuous aggregates hold buckets
        assert s.scalar(select(func.sum(ReadingRollup.n))) is None
    db.dispose()


def _compression_job(db: Database) -> tuple[int, int]:
    """The compression policy's job id and its runs that have ended (total_runs counts a run
    from its start, before its status is known)."""
    with db.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(
                text(
                    "SELECT j.job_id, coalesce(s.total_successes + s.total_failures, 0)"
                    " FROM timescaledb_information.jobs"
                    " j LEFT JOIN timescaledb_information.job_stats s USING (job_id)"
                    " WHERE j.proc_name = 'policy_compression'"
                )
            ).one()
        )


def _compressed_chunks(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT count(*) FROM timescaledb_information.chunks WHERE is_compressed")
            )
        )


@needs_timescaledb
def test_old_chunks_are_compressed_by_the_policy_or_by_the_worker_where_the_runner_fails_it(
    timescale_postgres, tmp_path
):
    db = migrated(timescale_postgres.new_database())
    sensor = _sensor(db, tmp_path)
    with db.session() as s:  # a chunk older than the policy's day, and today's
        insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(days=3), 1))
        insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(hours=2), 1))
    sync_timescale_policies(db=db, raw_days=10, compress_after_days=1)
    job, runs = _compression_job(db)
    with db.engine.begin() as conn:  # its next run now, not in half a day
        conn.execute(text("SELECT alter_job(:j, next_start => now())"), {"j": job})
    assert wait_until(lambda: _compression_job(db)[1] > runs, timeout=60)
    ran = timescale.run_failed_policies(db.engine)  # the worker's policies job, once
    failed = {proc for _, proc, _ in timescale.failed_policies(db.engine)}
    if "policy_compression" in failed:  # this server's runner fails it: the worker ran it
        assert "compression of readings" in ran
        assert db.storage()["policies"].startswith("TimescaleDB's job runner failed")
    else:
        assert ran == [] and "policies" not in db.storage()
    assert _compressed_chunks(db) == 1  # the old chunk; today's stays as it is
    assert _readings(db)[0] == 120
    db.dispose()


@needs_timescaledb
def test_existing_populated_plain_database_is_converted_with_all_its_rows(own_postgres, tmp_path):
    db = migrated(own_postgres.new_database())  # installed, not preloaded: a plain table
    sensor = _sensor(db, tmp_path)
    with db.session() as s:
        for day in range(1, 6):
            insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(days=day), 24))
    before = _readings(db)
    db.dispose()
    own_postgres.timescale = True
    own_postgres.ctl("restart")
    db = migrated(db.url)  # every migration already ran: the start converts it
    assert timescale_state(db.engine) == "active"
    assert _hypertables(db) == ["readings"]
    assert _readings(db) == before == (5 * 24 * 60, before[1])
    with db.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM ONLY readings")) == 0  # all in chunks
        assert conn.scalar(text("SELECT count(*) FROM show_chunks('readings')")) >= 5
    with db.session() as s:  # and it still takes readings, idempotently
        assert insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(days=1), 25)) == 60
    db.dispose()


@needs_timescaledb
def test_a_role_that_may_not_create_the_extension_runs_plain_until_an_operator_does(
    timescale_postgres, tmp_path, caplog
):
    url = timescale_postgres.new_database()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(timescale_postgres.admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE app_{name} LOGIN")
        conn.execute(f'ALTER DATABASE "{name}" OWNER TO app_{name}')
        conn.execute(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC, app_{name}')
    app_url = url.replace("postgres@", f"app_{name}@")
    caplog.set_level(logging.INFO, logger="data.timescale")
    db = migrated(app_url)
    assert timescale_state(db.engine) == "preloaded-not-created"
    assert any("CREATE EXTENSION timescaledb" in r.message for r in caplog.records)
    sensor = _sensor(db, tmp_path)
    with db.session() as s:
        insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(days=1), 3))
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION timescaledb")  # the operator step, by a superuser
    upgrade_schema(db.engine)
    assert timescale_state(db.engine) == "active"
    assert _hypertables(db) == ["readings"]
    assert _readings(db)[0] == 180
    db.dispose()


@needs_timescaledb
def test_a_table_too_big_to_convert_at_start_waits_for_the_operator(
    timescale_postgres, tmp_path, caplog, monkeypatch
):
    monkeypatch.setattr(timescale, "CONVERT_AT_START_MAX_BYTES", 0)  # any table is too big
    caplog.set_level(logging.INFO, logger="data.timescale")
    url = timescale_postgres.new_database()
    db = migrated(url)
    assert timescale_state(db.engine) == "preloaded-not-converted"
    said = [r.message for r in caplog.records if r.message.startswith("storage:")]
    statement = said[-1].split(" run ", 1)[1].split(", then restart")[0]
    assert "migrate_data => true" in statement
    sensor = _sensor(db, tmp_path)
    with db.session() as s:
        insert_readings(session=s, rows=_hours(sensor, NOW - timedelta(days=2), 30))
    assert not sync_timescale_policies(db=db, raw_days=10, compress_after_days=1)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(statement)  # the maintenance window
    upgrade_schema(db.engine)
    assert timescale_state(db.engine) == "active"
    assert _policies(db) == {} and sync_timescale_policies(
        db=db, raw_days=10, compress_after_days=1
    )
    assert set(_policies(db)) == {"policy_compression", "policy_retention"}
    assert _readings(db)[0] == 30 * 60
    db.dispose()


@needs_timescaledb
def test_a_timescale_database_on_a_server_that_stopped_preloading_it_refuses_to_start(
    own_postgres, tmp_path
):
    own_postgres.timescale = True
    own_postgres.ctl("restart")
    db = migrated(own_postgres.new_database())
    assert _hypertables(db) == ["readings"]
    db.dispose()
    own_postgres.timescale = False
    own_postgres.ctl("restart")
    db = Database(db.url)
    assert timescale_state(db.engine) == "created-not-preloaded"
    with pytest.raises(timescale.TimescaleNotLoaded, match="shared_preload_libraries"):
        upgrade_schema(db.engine)
    db.dispose()


@needs_timescaledb
def test_workers_starting_together_set_the_policies_once(timescale_postgres):
    """Every worker sets the policies at its start; three at once must neither fail (two
    adding the same policy) nor leave two."""
    db = migrated(timescale_postgres.new_database())
    failures: list[BaseException] = []
    for raw_days in (30, 60):  # first added, then changed (removed and added again)
        barrier = threading.Barrier(3)

        def start(days: int = raw_days, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                sync_timescale_policies(db=db, raw_days=days, compress_after_days=1)
            except BaseException as exc:  # noqa: BLE001 - collected, asserted below
                failures.append(exc)

        threads = [threading.Thread(target=start) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert _policies(db)["policy_retention"]["drop_after"] == f"{raw_days + 1} days"
    with db.engine.connect() as conn:
        count = conn.scalar(
            text(
                "SELECT count(*) FROM timescaledb_information.jobs"
                " WHERE hypertable_name = 'readings'"
            )
        )
    assert count == 2  # one compression and one retention policy
    db.dispose()
