"""The score job's kept window (``data.live_window``) on SQLite and PostgreSQL: every tick it
returns what the whole window's query (``bucketed_readings``) returns, while a tick after the
first reads a few buckets, not the window; a late reading counts within ``sweep`` ticks; a
retired machine leaves and a changed type shows at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import update

from data.db import Database
from data.live_window import LiveWindow
from data.models import Machine
from data.readings import bucket_start, bucketed_readings, insert_readings
from tests.factories import fleet_with_sensors, seed_buckets

STEP = 60.0
START = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() // STEP)
WINDOW = 30


def _whole(db: Database, first: int, last: int) -> pd.DataFrame:
    with db.session() as s:
        frame = bucketed_readings(
            session=s,
            step_s=STEP,
            since=bucket_start(first, STEP),
            until=bucket_start(last + 1, STEP),
        )
    return _sorted(frame)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["machine_id", "kind", "bucket"]).reset_index(drop=True)


def _tick(db: Database, window: LiveWindow, last: int) -> pd.DataFrame:
    with db.session() as s:
        return _sorted(window.frame(session=s, first_bucket=last - WINDOW + 1, last_bucket=last))


def _same(kept: pd.DataFrame, whole: pd.DataFrame) -> None:
    assert len(whole) > 0
    pd.testing.assert_frame_equal(kept, whole, check_exact=False, rtol=1e-12)


def _ids(sensors: dict[str, dict[str, int]]) -> list[int]:
    return [sid for kinds in sensors.values() for sid in kinds.values()]


def test_each_tick_equals_the_whole_query_and_reads_a_few_buckets(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("p-2", "pump"), ("m-1", "motor")])
    seed_buckets(db, _ids(sensors), START, START + 40, seed=1)
    window = LiveWindow(step_s=STEP, sweep=10, margin=2)
    last = START + 35
    _same(_tick(db, window, last), _whole(db, last - WINDOW + 1, last))
    assert window.buckets_read == WINDOW  # the first tick reads the window
    for _ in range(12):  # ticks within one bucket, then the clock moves a bucket on
        _same(_tick(db, window, last), _whole(db, last - WINDOW + 1, last))
        assert window.buckets_read == 3 + 3  # the margin and the last, one slice of 30 / 10
    for last in range(START + 36, START + 41):
        _same(_tick(db, window, last), _whole(db, last - WINDOW + 1, last))
        assert window.buckets_read <= 4 + 3


def test_a_late_reading_counts_within_sweep_ticks(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("p-2", "pump")])
    seed_buckets(db, _ids(sensors), START, START + 29, seed=2)
    window = LiveWindow(step_s=STEP, sweep=5, margin=1)
    last = START + 29
    _tick(db, window, last)
    late = datetime.fromtimestamp((START + 20) * STEP + 50.0, UTC)  # a gateway catching up
    with db.session() as s:
        assert insert_readings(session=s, rows=[(sensors["p-2"]["rpm"], late, 1e6)]) == 1
    seen = []
    for _ in range(5):
        frame = _tick(db, window, last)
        hit = frame[(frame["bucket"] == START + 20) & (frame["kind"] == "rpm")]
        seen.append(bool((hit["value"] > 1e5).any()))
    assert seen[-1] and not all(seen)  # not at once, but within one sweep
    _same(frame, _whole(db, last - WINDOW + 1, last))


def test_a_retired_machine_leaves_and_a_new_type_shows_at_once(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("m-1", "motor")])
    seed_buckets(db, _ids(sensors), START, START + 29, seed=3)
    window = LiveWindow(step_s=STEP)
    last = START + 29
    _tick(db, window, last)
    with db.session() as s:
        s.execute(update(Machine).where(Machine.name == "m-1").values(retired_at=datetime.now(UTC)))
        s.execute(update(Machine).where(Machine.name == "p-1").values(type="fan"))
    kept = _tick(db, window, last)
    _same(kept, _whole(db, last - WINDOW + 1, last))
    assert set(kept["type"]) == {"fan"}


def test_after_a_gap_in_ticks_the_window_is_read_again(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump")])
    seed_buckets(db, _ids(sensors), START, START + 99, seed=4)
    window = LiveWindow(step_s=STEP)
    _tick(db, window, START + 40)
    _same(_tick(db, window, START + 99), _whole(db, START + 70, START + 99))
    assert window.buckets_read == WINDOW  # the leader was away longer than the window
