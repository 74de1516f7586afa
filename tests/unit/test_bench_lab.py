"""The model-lab benchmark's pieces, as ``python -m bench.lab --quick`` runs them, on tiny data:
the tuning and explore measurements, the tables and the JSON line. Structure only: no
timing is asserted anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scored_sets import synthetic_scored

from bench.dashboard_measure import Timing
from bench.lab import END, QUICK, SCALE, SENSORS, _seed
from bench.lab_measure import (
    EXPORTS,
    MIN_RUNS,
    Measured,
    explore_cell,
    measure,
    score_tick,
)
from bench.lab_report import LabResults, render, summary_json
from bench.lab_tune import TuneRow, straightforward, tune_row
from data.db import Database, upgrade_schema
from ml.lab.explore_data import machine_catalogue


def test_measure_times_at_least_the_minimum_and_reports_memory():
    calls: list[int] = []
    m = measure(lambda i: calls.append(i) or [0] * 1000, repeat=3, budget_s=0.0, size=len)
    assert calls[0] == 0  # the untimed run under tracemalloc comes first
    assert m.timing.runs == MIN_RUNS == len(calls) - 1  # the budget is spent: the minimum
    assert m.size == 1000 and m.peak_mb > 0
    m = measure(lambda i: i, repeat=4, budget_s=60.0, size=lambda _a: 1)
    assert m.timing.runs == 4


def test_straightforward_baseline_counts_alarms():
    scored = synthetic_scored(machines=2, days=3)
    m = straightforward(scored, 0.8)
    assert m.failures > 0 and m.raised >= m.true >= 0


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> Database:
    path = tmp_path_factory.mktemp("lab") / "lab.sqlite3"
    seeded = _seed(str(path), 2, 0.5, False)
    assert seeded.readings > 0 and seeded.scorings == 2 * 0.5 * 86400 / 5
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


def test_tune_row_measures_open_move_and_baseline(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'tune.sqlite3'}")
    upgrade_schema(db.engine)
    scored = synthetic_scored(machines=2, days=3, model="candidate")
    row = tune_row("tiny", scored, db, tmp_path / "run", repeat=2, budget_s=0.0)
    db.dispose()
    assert (row.windows, row.machines) == (len(scored.scores), 2)
    assert row.failures > 0 and row.thresholds == 91
    assert row.open.size == row.thresholds  # the store holds one row per threshold
    for m in (row.open, row.sweep, row.move, row.baseline):
        assert m.timing.runs >= MIN_RUNS and m.timing.p95_ms > 0
    assert row.move.size > 0  # the JSON sent for a move
    assert row.ratio > 0 and row.open_in_replays > 0


def test_explore_cell_and_tick(explored: Database):
    with explored.session() as s:
        names = [n for n, _, _ in machine_catalogue(session=s)]
    cell = explore_cell(explored, names[:2], SENSORS, END, 0.5, SCALE, repeat=2, budget_s=0.0)
    assert cell.machines == 2 and cell.readings > 0
    assert cell.naive.size == cell.readings
    assert cell.draw.size > 0 and cell.draw.timing.runs >= MIN_RUNS
    assert set(cell.exports) == {f"{w}.{f}" for w, f in EXPORTS}
    assert all(m.size > 0 for m in cell.exports.values())
    assert cell.ratio > 0
    tick = score_tick(explored, names, END, 0.5, SCALE, repeat=2, budget_s=0.0)
    assert tick.size > 0 and tick.timing.runs >= MIN_RUNS

    r = LabResults(command="python -m bench.lab --quick", explore=[cell], ticks={0.5: tick})
    scored = synthetic_scored(machines=1, days=2)
    r.tune.append(_fake_tune(len(scored.scores)))
    table = render(r)
    assert "naive p95 / draw p95" in table and "baseline p95 / slider move p95" in table
    line = json.loads(summary_json(r))
    assert set(line) == {
        "tune_windows",
        "tune_open_p95_ms",
        "tune_move_p95_ms",
        "tune_baseline_p95_ms",
        "tune_ratio",
        "explore_cells",
        "draw_p95_ms_max",
        "export_p95_ms_max",
        "naive_ratio",
        "draw_peak_mb_max",
        "naive_peak_mb_max",
    }
    assert line["explore_cells"] == 1 and line["naive_ratio"] > 0
    assert line["tune_ratio"] == 50.0  # 10 ms / 0.2 ms


def _fake_tune(windows: int):
    def m(p95: float) -> Measured:
        return Measured(Timing(3, p95, p95, p95), 1.0, 10)

    return TuneRow("tiny", windows, 1, 2, 91, m(30.0), m(25.0), m(0.2), m(10.0))


def test_quick_sizes_are_smaller_than_the_full_run():
    from bench.lab import FULL

    assert max(QUICK.machines) < max(FULL.machines) and max(QUICK.days) < max(FULL.days)
    assert len(QUICK.tune) < len(FULL.tune)
