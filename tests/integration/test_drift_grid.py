"""The drift job's kept grid (``data.drift_grid``) on SQLite and PostgreSQL: on the first
check (nothing kept) and on every later one it equals the grid of the whole period's query
(``bucketed_readings``), while a later check reads only the readings since the last one;
what is kept survives a restart, a late reading makes its chunk read again, a machine added
later joins with nothing before its first reading, and a retired machine leaves."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select

from data.db import Database
from data.drift_grid import period_grid
from data.models import DriftGridChunk, Machine
from data.readings import bucketed_readings, insert_readings
from ml.drift_live import period_windows
from tests.factories import GRID_KINDS, fleet_with_sensors, seed_buckets

STEP = 60.0
KINDS = GRID_KINDS
START = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() // STEP)  # the first bucket seeded


def _whole(db: Database, first: int, last: int):
    """The grid of the whole period's query (the job's before the grid was kept)."""
    with db.session() as s:
        frame = bucketed_readings(
            session=s, since=datetime.fromtimestamp(first * STEP, UTC), step_s=STEP
        )
    live = period_windows(
        frame, sensors=KINDS, window=5, stride=5, first_bucket=first, last_bucket=last
    )
    return live.grid, live.grid_ids, live.grid_types


def _kept(db: Database, first: int, last: int):
    with db.session() as s:
        grid = period_grid(session=s, step_s=STEP, first_bucket=first, last_bucket=last)
    values, ids, types = grid.of(KINDS)
    return (values, ids, types), grid.read


def _same(kept, whole) -> None:
    np.testing.assert_array_equal(kept[1], whole[1])
    np.testing.assert_array_equal(kept[2], whole[2])
    assert kept[0].shape == whole[0].shape
    np.testing.assert_allclose(kept[0], whole[0], rtol=1e-12, equal_nan=True)


def _flat(sensors: dict[str, dict[str, int]]) -> list[int]:
    return [sid for kinds in sensors.values() for sid in kinds.values()]


def test_later_checks_read_only_new_readings_and_equal_the_whole_query(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("p-2", "pump"), ("m-1", "motor")])
    stored = seed_buckets(db, _flat(sensors), START, START + 59, seed=1)
    kept, read = _kept(db, START + 20, START + 59)  # first check: nothing kept yet
    _same(kept, _whole(db, START + 20, START + 59))
    assert 0 < read < stored  # the period only, not the buckets before it
    assert not np.isnan(kept[0]).all() and np.isnan(kept[0]).any()

    new = seed_buckets(db, _flat(sensors), START + 60, START + 64, seed=2)
    kept, read = _kept(db, START + 25, START + 64)
    assert read == new  # the five new buckets' readings, nothing else
    _same(kept, _whole(db, START + 25, START + 64))

    kept, read = _kept(db, START + 25, START + 64)  # nothing new
    assert read == 0
    _same(kept, _whole(db, START + 25, START + 64))
    with db.session() as s:  # chunks wholly before the period are forgotten
        oldest = s.scalar(select(func.min(DriftGridChunk.last_bucket)))
    assert oldest >= START + 25


def test_kept_grid_survives_a_restart(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("m-1", "motor")])
    seed_buckets(db, _flat(sensors), START, START + 39, seed=3)
    _kept(db, START, START + 39)
    url = db.engine.url.render_as_string(hide_password=False)
    db.dispose()
    again = Database(url)  # a worker started anew on the same database
    try:
        kept, read = _kept(again, START + 1, START + 39)
        assert read == 0
        _same(kept, _whole(again, START + 1, START + 39))
    finally:
        again.dispose()


def test_a_late_reading_makes_its_chunk_read_again(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("p-2", "pump")])
    seed_buckets(db, _flat(sensors), START, START + 29, seed=4)
    _kept(db, START, START + 9)
    _kept(db, START, START + 19)
    _kept(db, START, START + 29)  # three chunks: [0, 9], [10, 19], [20, 29]
    late = datetime.fromtimestamp((START + 14) * STEP + 50.0, UTC)  # a gateway catching up
    with db.session() as s:
        assert insert_readings(session=s, rows=[(sensors["p-2"]["rpm"], late, 1e6)]) == 1
    kept, read = _kept(db, START, START + 29)
    with db.session() as s:  # the middle chunk only, with its late reading
        assert read == s.scalar(
            select(DriftGridChunk.readings).where(DriftGridChunk.first_bucket == START + 10)
        )
    assert 1 < read < 200
    _same(kept, _whole(db, START, START + 29))
    row = list(kept[1]).index(_machine_of(db, "p-2"))
    assert kept[0][row, 14, KINDS.index("rpm")] > 1e5  # the late value is in the mean


def _machine_of(db: Database, name: str) -> int:
    with db.session() as s:
        return int(s.scalar(select(Machine.id).where(Machine.name == name)))


def test_a_machine_added_later_joins_and_a_retired_one_leaves(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump"), ("m-1", "motor")])
    seed_buckets(db, _flat(sensors), START, START + 29, seed=5)
    _kept(db, START, START + 29)
    newer = fleet_with_sensors(db, [("f-1", "fan")])
    seed_buckets(db, _flat(sensors) + _flat(newer), START + 30, START + 34, seed=6)
    with db.session() as s:
        s.execute(
            Machine.__table__.update()
            .where(Machine.name == "m-1")
            .values(retired_at=datetime(2026, 12, 2, tzinfo=UTC))
        )
    kept, read = _kept(db, START + 5, START + 34)
    _same(kept, _whole(db, START + 5, START + 34))
    assert list(kept[2]) == ["pump", "fan"]  # the retired motor left, the fan joined
    fan = kept[0][1]
    assert np.isnan(fan[:25]).all() and not np.isnan(fan[25:]).all()  # nothing before


def test_another_step_starts_afresh(db):
    sensors = fleet_with_sensors(db, [("p-1", "pump")])
    stored = seed_buckets(db, _flat(sensors), START, START + 9, seed=7)
    _kept(db, START, START + 9)
    half = STEP / 2  # the live step changed: buckets of 30 s
    with db.session() as s:
        grid = period_grid(
            session=s, step_s=half, first_bucket=START * 2, last_bucket=START * 2 + 19
        )
        steps = set(s.scalars(select(DriftGridChunk.step_s)))
        frame = bucketed_readings(
            session=s, since=datetime.fromtimestamp(START * STEP, UTC), step_s=half
        )
    assert steps == {half}  # the other step's chunks are gone
    assert grid.read == stored  # read again from the readings
    live = period_windows(
        frame, sensors=KINDS, window=5, stride=5, first_bucket=START * 2, last_bucket=START * 2 + 19
    )
    np.testing.assert_allclose(grid.of(KINDS)[0], live.grid, equal_nan=True)
