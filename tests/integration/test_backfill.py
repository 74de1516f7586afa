"""``python app.py backfill`` on SQLite and PostgreSQL: every reading written once, each
failure leaves the rule alarms, a resolved ticket and a breakdown downtime, the physics shows
in the data, and the app's own queries read it back."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from data.bulk_readings import sqlite_stamps, write_readings
from data.db import Database
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Machine,
    Reading,
    Sensor,
    Ticket,
    TicketStatus,
)
from data.readings import SQLITE_TS_FORMAT, bucketed_readings, readings_since
from maintenance.alarming.threshold_rules import error_code
from simulator.fleet_physics import MACHINE_TYPES
from worker.backfill import BackfillResult, backfill

ROOT = Path(__file__).resolve().parents[2]
END = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
# seed 33 gives all three fault modes and two planned stops on these three machines
SMALL = {
    "machines": 3,
    "days": 2,
    "interval_s": 60,
    "seed": 33,
    "end": END,
    "mean_days_between_failures": 0.5,
    "progress": False,
}
TICKS = 2 * 86_400 // 60
KINDS = ["temperature", "vibration", "rpm"]


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _readings(db: Database, result: BackfillResult) -> pd.DataFrame:
    """machine_id, ts, type and one column per sensor kind, through the app's own query."""
    with db.session() as s:
        types = dict(s.execute(select(Machine.id, Machine.type)).all())
        frame = readings_since(
            session=s,
            machine_ids=list(types),
            kinds=KINDS,
            since=result.first - timedelta(seconds=1),
        )
    wide = frame.pivot_table(index=["machine_id", "ts"], columns="kind", values="value")
    wide = wide.reset_index()
    wide["type"] = wide["machine_id"].map(types)
    return wide


def test_every_reading_once_and_every_failure_ticketed_with_a_rule_alarm_first(db):
    result = backfill(db=db, **SMALL)

    assert result.readings == 3 * 3 * TICKS == _count(db, Reading)
    assert result.skipped == 0
    assert result.last == END and result.first == END - timedelta(seconds=60 * (TICKS - 1))
    assert result.failures == len(result.episodes) >= 3
    assert {e.mode for e in result.episodes} == {"bearing_wear", "cooling_fault", "imbalance"}
    assert result.planned_stops >= 1
    codes = {error_code(kind, side) for kind in KINDS for side in ("HIGH", "LOW")}
    with db.session() as s:
        breakdowns = s.scalars(
            select(Downtime).where(Downtime.kind == DowntimeKind.BREAKDOWN)
        ).all()
        assert len(breakdowns) == result.failures
        for down in breakdowns:
            assert down.source == "backfill" and down.ended_at > down.started_at
            ticket = s.get(Ticket, down.ticket_id)
            assert ticket.status is TicketStatus.RESOLVED and ticket.failure_confirmed is True
            assert ticket.resolution and ticket.machine_id == down.machine_id
            assert down.started_at <= ticket.started_at <= ticket.resolved_at == down.ended_at
            alarm = s.get(Alarm, ticket.alarm_id)
            assert alarm.source is AlarmSource.RULE and alarm.code == ticket.code
            assert alarm.raised_at == ticket.created_at < down.started_at
            assert alarm.cleared_at is not None and alarm.cleared_at >= down.ended_at
            assert alarm.acknowledged_at is None
        alarms = s.scalars(select(Alarm)).all()
        assert {a.code for a in alarms} <= codes
        assert all(a.raised_at <= a.last_seen_at < a.cleared_at for a in alarms)
        planned = s.scalars(select(Downtime).where(Downtime.kind == DowntimeKind.PLANNED)).all()
        assert len(planned) == result.planned_stops
        assert all(p.ticket_id is None and p.source == "backfill" for p in planned)
    assert _count(db, Ticket) == result.failures


def test_rpm_is_zero_while_down_and_values_are_plausible_otherwise(db):
    result = backfill(db=db, **SMALL)
    wide = _readings(db, result)
    assert len(wide) == 3 * TICKS
    down = np.zeros(len(wide), dtype=bool)
    with db.session() as s:
        for d in s.scalars(select(Downtime)):
            down |= (
                (wide["machine_id"] == d.machine_id)
                & (wide["ts"] >= d.started_at)
                & (wide["ts"] < d.ended_at)
            ).to_numpy()
    assert down.sum() > 0
    assert (wide.loc[down, "rpm"] == 0).all()
    assert (wide.loc[down, "vibration"] < 0.2).all()
    running = wide[~down]
    for type_name, group in running.groupby("type"):
        kind = MACHINE_TYPES[type_name]
        assert group["rpm"].between(0.95 * kind.rpm, 1.12 * kind.rpm).all(), type_name
        assert group["temperature"].between(20, kind.temp + 45).all(), type_name
        assert group["vibration"].between(0, 6 * kind.vibration).all(), type_name
        # healthy most of the time: the median sits at the type's nominal values
        assert abs(group["temperature"].median() - kind.temp) < 5
        assert abs(group["vibration"].median() - kind.vibration) < 0.3 * kind.vibration


def test_vibration_rises_before_bearing_wear_and_imbalance_failures(db):
    result = backfill(db=db, **SMALL)
    wide = _readings(db, result)
    with db.session() as s:
        ids = dict(s.execute(select(Machine.name, Machine.id)).all())
    wearing = [e for e in result.episodes if e.mode in ("bearing_wear", "imbalance")]
    assert wearing
    for e in wearing:
        vib = wide[wide["machine_id"] == ids[e.machine]].set_index("ts")["vibration"]
        before = vib[(vib.index >= e.onset - timedelta(hours=1)) & (vib.index < e.onset)]
        late = vib[(vib.index >= e.failure - timedelta(minutes=30)) & (vib.index < e.failure)]
        assert len(before) and len(late)
        assert late.mean() > 2 * before.mean(), e


def test_running_again_writes_nothing_twice_and_a_longer_run_extends_history(db):
    first = backfill(db=db, **SMALL)
    tables = (Reading, Alarm, Ticket, Downtime)
    counts = [_count(db, t) for t in tables]

    again = backfill(db=db, **SMALL)
    assert (again.readings, again.failures, again.planned_stops) == (0, 0, 0)
    assert again.skipped == first.readings
    assert [_count(db, t) for t in tables] == counts

    longer = backfill(db=db, **{**SMALL, "days": 3})
    assert longer.readings == 3 * 3 * 86_400 // 60 == _count(db, Reading) - counts[0]
    assert _count(db, Reading) == 3 * 3 * 3 * 86_400 // 60
    with db.session() as s:
        starts = s.execute(select(Downtime.machine_id, Downtime.started_at)).all()
        assert len(starts) == len(set(starts))
        # the new day's failures end before the stored data begins
        assert all(e.repaired < first.first for e in longer.episodes)


def test_bucketed_readings_cover_the_range(db):
    result = backfill(db=db, **SMALL)
    with db.session() as s:
        frame = bucketed_readings(session=s, since=result.first, step_s=3600)
        machines = set(s.scalars(select(Machine.id)))
    assert set(frame["machine_id"]) == machines
    assert set(frame["kind"]) == set(KINDS)
    per_series = frame.groupby(["machine_id", "kind"])["bucket"].nunique()
    assert per_series.between(48, 49).all()
    assert frame["value"].notna().all()


def test_bucketed_readings_of_shards_split_the_fleet(db):
    """``shard=(k, K)``: the machines with id % K == k, together the whole frame once
    (the sharded scoring measured in bench/scoring_shards.py)."""
    result = backfill(db=db, **SMALL)
    with db.session() as s:
        whole = bucketed_readings(session=s, since=result.first, step_s=3600)
        parts = [
            bucketed_readings(session=s, since=result.first, step_s=3600, shard=(k, 2))
            for k in range(2)
        ]
    for k, part in enumerate(parts):
        assert len(part) and (part["machine_id"] % 2 == k).all()
    key = ["machine_id", "kind", "bucket"]
    joined = pd.concat(parts).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, whole.sort_values(key).reset_index(drop=True))


def test_write_readings_keeps_rows_already_stored(db):
    """The fallback when COPY collides (PostgreSQL) and INSERT OR IGNORE (SQLite)."""
    backfill(db=db, **{**SMALL, "machines": 1, "days": 0.25})
    with db.session() as s:
        sids = list(s.scalars(select(Sensor.id).order_by(Sensor.id)))
        stored = s.scalar(select(func.count()).select_from(Reading))
    last_us = int(END.timestamp()) * 1_000_000
    ts = last_us + np.arange(-3, 5, dtype=np.int64) * 60_000_000  # half stored, half new
    with db.session() as s:
        inserted = write_readings(
            session=s, sensor_ids=sids, ts_us=ts, values=np.full((len(sids), 8), -1.0)
        )
    assert inserted == len(sids) * 4
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == stored + inserted
        assert s.scalar(select(func.count()).where(Reading.value == -1.0, Reading.ts <= END)) == 0


def test_sqlite_stamps_are_what_sqlalchemy_stores():
    when = [datetime(2025, 1, 2, 3, 4, 5, 60, tzinfo=UTC), datetime(1999, 12, 31, tzinfo=UTC)]
    us = np.array([int(w.timestamp()) * 1_000_000 + w.microsecond for w in when], np.int64)
    assert sqlite_stamps(us) == [w.strftime(SQLITE_TS_FORMAT) for w in when]


def test_cli_backfills_a_database(tmp_path):
    """...storing rpm at its resolution (``PDM_STORE_RESOLUTION``) as ingest would."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    proc = subprocess.run(
        [sys.executable, "app.py", "backfill", "--database-url", url]
        + ["--machines", "2", "--days", "1", "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ | {"PDM_STORE_RESOLUTION": '{"rpm": 0.1}'},
    )
    assert proc.returncode == 0, proc.stderr
    assert "51,840 readings written" in proc.stdout
    db = Database(url)
    try:
        assert _count(db, Reading) == 2 * 3 * 86_400 // 10
        assert _count(db, Machine) == 2
        with db.session() as s:
            by_kind = dict(
                s.execute(
                    select(Sensor.kind, func.count())
                    .join(Reading, Reading.sensor_id == Sensor.id)
                    .where(Reading.value * 16 != func.round(Reading.value * 16))
                    .group_by(Sensor.kind)
                ).all()
            )
        assert "rpm" not in by_kind  # every rpm on a 1/16 step
        assert by_kind["temperature"] > 0  # the others as the simulator made them
    finally:
        db.dispose()


def test_backfilled_machines_were_in_service_for_their_history(db):
    result = backfill(db=db, machines=2, days=2, interval_s=60, progress=False)
    with db.session() as s:
        created = set(s.scalars(select(Machine.created_at)))
    assert created == {result.first}


def test_time_buckets_narrower_than_a_second_fit(db):
    """The live demo scores with quarter-second steps: epoch / 0.25 exceeds 32 bits."""
    from data.readings import time_bucket

    with db.session() as s:
        bucket = s.scalar(select(time_bucket(s, func.max(Reading.ts), 0.25)).select_from(Reading))
    assert bucket is None  # empty table; the statement itself must run on both databases
    backfill(db=db, machines=1, days=0.01, interval_s=1, progress=False)
    with db.session() as s:
        newest = s.scalar(select(func.max(Reading.ts)))
        bucket = s.scalar(select(time_bucket(s, func.max(Reading.ts), 0.25)))
    assert bucket == int(newest.timestamp() // 0.25)
