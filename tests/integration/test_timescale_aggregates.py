"""TimescaleDB's continuous aggregates in place of the hand-made rollups, on a real preloaded
TimescaleDB: present with their refresh policies on a fresh install and on a populated
database converted later; the machine page's series (``sensor_history``, which the page, the
readings API, a ticket's report and the lab read) equal to the same buckets computed from raw
readings, on the aggregates as on the rollup table of plain PostgreSQL; readings written a
moment ago are in them at once (real-time); retention keeps the buckets of what it drops;
the worker schedules the hand-made ``rollup`` job only where there are no aggregates, and its
``policies`` job (TimescaleDB's policies run by the worker where the server's job runner
fails them) only where there are.
Skipped, with the reason, where TimescaleDB is not installed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from factories import add_user, make_settings, migrated, wait_until
from services import NO_TIMESCALEDB, timescaledb_installed
from sqlalchemy import text
from timescale_jobs import job_configs, jobs_all_ran

from config import load_settings
from data.db import Database
from data.fleet_queries import sensor_directory
from data.machine_series import sensor_history
from data.models import Role
from data.readings import insert_readings
from data.rollup import roll_up_due
from data.timescale import AGGREGATES, aggregates_in_use, run_failed_policies, timescale_state
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.retention import apply_retention, sync_timescale_policies
from maintenance.ops.scheduled_jobs import job_summaries, request_run
from worker.service import Worker

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
needs_timescaledb = pytest.mark.skipif(not timescaledb_installed(), reason=NO_TIMESCALEDB)


def _sensors(db: Database, tmp_path) -> list[int]:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=1), db)
    with db.session() as s:
        return sorted(sid for (m, _), sid in sensor_directory(session=s).items() if m == "motor-01")


def _write(db: Database, sensors: list[int], start: datetime, end: datetime) -> int:
    """One reading a minute per sensor in [start, end), uneven values."""
    minutes = int((end - start) / timedelta(minutes=1))
    rows = [
        (sid, start + timedelta(minutes=m), float((m * 7919 + sid * 104729) % 1000) / 10)
        for sid in sensors
        for m in range(minutes)
    ]
    with db.session() as s:
        return insert_readings(session=s, rows=rows)


def _series(db: Database, sensors: list[int], start: datetime, end: datetime, points: int):
    with db.session() as s:
        frame = sensor_history(
            session=s, sensor_ids=sensors, start=start, end=end, max_points=points
        )
    return frame.sort_values(["sensor_id", "ts"]).reset_index(drop=True)


def _raw_series(db: Database, sensors: list[int], start: datetime, end: datetime, step: int):
    """The same buckets straight from raw readings (the reference)."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT sensor_id, floor(extract(epoch FROM ts) / :step)::bigint AS b,"
                " avg(value), min(value), max(value), count(*) FROM readings"
                " WHERE sensor_id = ANY(:ids) AND ts >= :start AND ts < :end"
                " GROUP BY sensor_id, b ORDER BY sensor_id, b"
            ),
            {"step": step, "ids": sensors, "start": start, "end": end},
        ).all()
    frame = pd.DataFrame(rows, columns=["sensor_id", "b", "mean", "lo", "hi", "n"])
    frame["ts"] = pd.to_datetime((frame["b"] * step + step / 2) * 1e9, utc=True)
    return frame.drop(columns="b")


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want) > 0
    for col in ("sensor_id", "n"):
        assert got[col].astype("int64").tolist() == want[col].astype("int64").tolist()
    assert got["ts"].tolist() == want["ts"].tolist()
    for col in ("mean", "lo", "hi"):
        assert got[col].astype(float).tolist() == pytest.approx(want[col].astype(float).tolist())


def _refresh(db: Database) -> None:
    """What the refresh policies do within their period: materialize up to their end offset
    behind now (the real-time part reads the rest from raw readings)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name, (_, end_offset, _) in AGGREGATES.items():
            conn.execute(
                text(f"CALL refresh_continuous_aggregate('{name}', NULL, now() - :end)"),
                {"end": end_offset},
            )


def _materialized_rows(db: Database, name: str) -> int:
    with db.engine.connect() as conn:
        table = conn.execute(
            text(
                "SELECT format('%I.%I', materialization_hypertable_schema,"
                " materialization_hypertable_name) FROM timescaledb_information"
                ".continuous_aggregates WHERE view_name = :n"
            ),
            {"n": name},
        ).scalar()
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


_REFRESH = "proc_name = 'policy_refresh_continuous_aggregate'"


def _refresh_policies(db: Database) -> dict[str, dict]:
    return job_configs(db, where=_REFRESH, key="hypertable_name")


def _refresh_runs_done(db: Database) -> bool:
    return jobs_all_ran(db, where=f"j.{_REFRESH}", counter="total_successes")


def _refresh_runs_failed(db: Database) -> bool:
    return jobs_all_ran(db, where=f"j.{_REFRESH}", counter="total_failures")


def _wait_for_refresh_runs(db: Database) -> None:
    """Until every refresh policy has run once: by TimescaleDB's job runner, or, on a server
    whose runner fails them (see ``data.timescale.run_failed_policies``), by the worker's
    ``policies`` job, whose body runs here once."""
    assert wait_until(lambda: _refresh_runs_done(db) or _refresh_runs_failed(db), timeout=60)
    if not _refresh_runs_done(db):
        assert _run_failed_refreshes(db) == len(AGGREGATES)


def _run_failed_refreshes(db: Database) -> int:
    """The worker's ``policies`` job, once: how many refresh policies it ran."""
    ran = run_failed_policies(db.engine)
    return sum(r.startswith("refresh_continuous_aggregate") for r in ran)


def test_plain_postgres_reads_the_rollup_table_equal_to_raw(postgres, tmp_path):
    db = migrated(postgres.new_database())
    assert not aggregates_in_use(db.engine)
    sensors = _sensors(db, tmp_path)
    start = NOW - timedelta(days=30)
    _write(db, sensors, start, NOW)
    with db.session() as s:
        roll_up_due(s, NOW - timedelta(minutes=25), catch_up=timedelta(days=40))
        assert s.scalar(text("SELECT count(*) FROM readings_10m")) > 0
    for points, step in ((1500, 1800), (720, 3600)):  # the 30-day page; whole hours
        _assert_same(
            _series(db, sensors, start, NOW, points), _raw_series(db, sensors, start, NOW, step)
        )
    db.dispose()


@needs_timescaledb
def test_machine_page_series_on_aggregates_equal_raw_and_take_new_readings_at_once(
    timescale_postgres, tmp_path
):
    db = migrated(timescale_postgres.new_database())
    sensors = _sensors(db, tmp_path)
    start = NOW - timedelta(days=30)
    _write(db, sensors, start, NOW)
    cases = ((1500, 1800), (720, 3600))  # ten-minute aggregate; the hourly one
    for points, step in cases:  # nothing materialized yet: all real-time from raw
        want = _raw_series(db, sensors, start, NOW, step)
        _assert_same(_series(db, sensors, start, NOW, points), want)
    _refresh(db)
    assert _materialized_rows(db, "readings_10m_agg") >= 29 * 144 * len(sensors)
    assert _materialized_rows(db, "readings_1h_agg") >= 29 * 24 * len(sensors)
    for points, step in cases:
        want = _raw_series(db, sensors, start, NOW, step)
        _assert_same(_series(db, sensors, start, NOW, points), want)
    # written a moment ago, no refresh since: in the series at once (the range ends after
    # the moment: NOW is the hour this module was collected in, the test may run later)
    # 30 days on whole hours, so 720 points are the hourly aggregate's buckets
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    later = (moment + timedelta(hours=1)).replace(minute=0, second=0)
    first = later - timedelta(days=30)
    before = _series(db, sensors, first, later, 720)["n"].sum()
    with db.session() as s:
        insert_readings(session=s, rows=[(sid, moment, 1234.5) for sid in sensors])
    after = _series(db, sensors, first, later, 720)
    assert after["n"].sum() == before + len(sensors) and after["hi"].max() == 1234.5
    _assert_same(after, _raw_series(db, sensors, first, later, 3600))
    # a late reading inside materialized buckets: in after the next refresh
    with db.session() as s:
        late = start + timedelta(days=3, seconds=30)
        insert_readings(session=s, rows=[(sensors[0], late, -5.0)])
        assert s.scalar(text("SELECT count(*) FROM rollup_dirty")) == 0  # no hand-made marks
    _refresh(db)
    _assert_same(_series(db, sensors, start, NOW, 1500), _raw_series(db, sensors, start, NOW, 1800))
    db.dispose()


@needs_timescaledb
def test_retention_drops_raw_chunks_and_their_buckets_stay_in_the_aggregates(
    timescale_postgres, tmp_path
):
    db = migrated(timescale_postgres.new_database())
    sync_timescale_policies(db=db, raw_days=10, compress_after_days=1)
    sensors = _sensors(db, tmp_path)
    start = NOW - timedelta(days=14)
    written = _write(db, sensors, start, NOW)
    _refresh(db)
    whole = _series(db, sensors, start, NOW, 720)
    _wait_for_refresh_runs(db)  # (where the worker runs them, the retention policy ran too)
    apply_retention(db=db, now=NOW, raw_days=10, rollup_days=0)
    with db.engine.connect() as conn:
        removed = written - conn.scalar(text("SELECT count(*) FROM readings"))
    assert 3 * 1440 * len(sensors) <= removed <= 4 * 1440 * len(sensors)
    with db.engine.connect() as conn:  # no hand-made rollups on TimescaleDB
        assert conn.scalar(text("SELECT count(*) FROM readings_10m")) == 0
    # the refresh policies run again over what is left: the dropped days stay aggregated
    runs = _ended_runs(db)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "SELECT alter_job(job_id, next_start => now()) FROM timescaledb_information.jobs"
                " WHERE proc_name = 'policy_refresh_continuous_aggregate'"
            )
        )
    ran_again = wait_until(lambda: _ended_runs(db) >= runs + 2, timeout=60)
    assert ran_again, "the refresh policies did not run again"
    _run_failed_refreshes(db)  # where they failed again, the worker's policies job runs them
    kept = _series(db, sensors, start, NOW, 720)
    _assert_same(kept, whole)
    db.dispose()


def _ended_runs(db: Database) -> int:
    """The refresh policies' runs that have ended, summed (job_stats' total_runs counts a run
    from its start, before its status is known)."""
    with db.engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT sum(s.total_successes + s.total_failures) FROM"
                    " timescaledb_information.jobs j JOIN"
                    " timescaledb_information.job_stats s USING (job_id)"
                    " WHERE j.proc_name = 'policy_refresh_continuous_aggregate'"
                )
            )
            or 0
        )


@needs_timescaledb
def test_populated_database_converted_later_keeps_its_series_and_gets_the_aggregates(
    own_postgres, tmp_path
):
    db = migrated(own_postgres.new_database())  # installed, not preloaded: plain PostgreSQL
    sensors = _sensors(db, tmp_path)
    start = NOW - timedelta(days=20)
    _write(db, sensors, start, NOW)
    with db.session() as s:
        roll_up_due(s, NOW - timedelta(minutes=25), catch_up=timedelta(days=40))
    apply_retention(db=db, now=NOW, raw_days=10, rollup_days=0)  # older raw: only rolled up
    before = {p: _series(db, sensors, start, NOW, p) for p in (1500, 720)}
    db.dispose()
    own_postgres.timescale = True
    own_postgres.ctl("restart")
    db = migrated(db.url)  # the start converts it and makes the aggregates
    assert timescale_state(db.engine) == "active" and aggregates_in_use(db.engine)
    for points, frame in before.items():  # real-time from raw, the rollup table before it
        _assert_same(_series(db, sensors, start, NOW, points), frame)
    sync_timescale_policies(db=db, raw_days=10, compress_after_days=1)  # the worker's start
    _wait_for_refresh_runs(db)
    assert _materialized_rows(db, "readings_10m_agg") > 0
    for points, frame in before.items():  # materialized by the policies now
        _assert_same(_series(db, sensors, start, NOW, points), frame)
    db.dispose()


@pytest.mark.parametrize("backend", ["postgres", "timescale"])
def test_the_worker_schedules_and_the_jobs_page_lists_rollup_without_aggregates_policies_with(
    backend, request, mosquitto, tmp_path
):
    if backend == "timescale" and not timescaledb_installed():
        pytest.skip(NO_TIMESCALEDB)
    server = request.getfixturevalue(f"{backend}_postgres" if backend == "timescale" else backend)
    settings = make_settings(tmp_path, database_url=server.new_database(), mqtt_url=mosquitto.url)
    db = migrated(settings.effective_database_url)
    worker = Worker(settings, db)
    worker.start()
    try:
        scheduled = {job.id for job in worker.scheduler.get_jobs()}
        with db.session() as s:
            listed = {j.job for j in job_summaries(session=s)}
            asked = request_run(session=s, job="rollup", user_id=add_user(db, "ad", Role.ADMIN))
    finally:
        worker.stop()
        db.dispose()
    assert "retention" in scheduled and "drain" in scheduled
    assert ("rollup" in scheduled) is (backend == "postgres")
    assert ("policies" in scheduled) is (backend == "timescale")
    assert listed == scheduled - {"requests"}  # the Jobs page lists what runs
    assert asked is (backend == "postgres")  # no "run now" for a job that never runs
