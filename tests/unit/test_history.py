"""The vectorised history generator (simulator/bulk_history.py, limit_crossings.py): the
same physics as the live simulator, faults planned inside the range, limits crossed where the
data crosses them."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from simulator.bulk_history import Grid, generate, lag, plan_machine
from simulator.fleet_physics import FleetSimulator, demo_fleet
from simulator.limit_crossings import Window, crossings

END = datetime(2025, 6, 1, 0, 0, 7, tzinfo=UTC)


def _values(machine_index: int, *, days: float, interval_s: float, mtbf: float, chunk=None):
    machine = demo_fleet(machine_index + 1)[machine_index]
    grid = Grid.ending(END, days=days, interval_s=interval_s)
    plan = plan_machine(
        machine, grid=grid, rng=np.random.default_rng(1), mean_days_between_failures=mtbf
    )
    kwargs = {"chunk_ticks": chunk} if chunk else {}
    chunks = list(generate(plan, grid=grid, rng=np.random.default_rng(2), **kwargs))
    values = np.concatenate([c.values for c in chunks], axis=1)
    return machine, grid, plan, {s.key: values[i] for i, s in enumerate(machine.sensors)}


def test_grid_ends_on_a_multiple_of_the_interval_and_counts_whole_intervals():
    grid = Grid.ending(END, days=1, interval_s=10)
    assert grid.at(grid.n - 1) == END.replace(second=0)
    assert grid.n == 8640
    assert grid.at(0) == END.replace(second=0) - timedelta(seconds=10 * 8639)
    assert np.all(np.diff(grid.times(0, 100)) == 10_000_000)
    assert grid.position(grid.at(17)) == 17


def test_lag_matches_the_recurrence_it_vectorises():
    rng = np.random.default_rng(0)
    target = 50 + 10 * rng.standard_normal(40_000)
    keep = np.where(rng.random(40_000) < 0.3, 0.95, 0.8)  # longer than one block
    expected, x = np.empty_like(target), 42.0
    for i in range(len(target)):
        x = keep[i] * x + (1 - keep[i]) * target[i]
        expected[i] = x
    np.testing.assert_allclose(lag(target, keep, 42.0), expected, rtol=1e-9)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_healthy_machine_stays_inside_its_warning_limits_except_when_stopped(index):
    machine, grid, plan, values = _values(index, days=30, interval_s=60, mtbf=float("inf"))
    assert plan.faults == ()
    stopped = np.zeros(grid.n, dtype=bool)
    for start, end in plan.stops:
        stopped[start:end] = True
    assert (values["rpm"][stopped] == 0).all()
    for s in machine.sensors:
        running = values[s.key][~stopped]
        assert s.warn_high is None or running.max() < s.warn_high, s.key
        assert s.warn_low is None or running.min() > s.warn_low, s.key


def test_same_physics_as_the_live_simulator_when_healthy():
    machine, grid, _, values = _values(2, days=2, interval_s=60, mtbf=float("inf"))
    live = FleetSimulator(
        [machine],
        speed=1.0,
        seed=5,
        start=0.0,
        first_fault_after_s=None,
        mean_hours_between_faults=1e9,
    )
    samples = [live.sample(t)[machine.name] for t in np.arange(0, 2 * 86_400, 60.0)]
    for s in machine.sensors:
        ours, theirs = values[s.key], np.array([x[s.key] for x in samples])
        if s.key == "rpm":  # planned stops (none in the live simulator) would pull the mean
            ours = ours[ours > 0]
        assert abs(ours.mean() - theirs.mean()) < 0.02 * abs(theirs.mean()), s.key
        assert 0.5 < ours.std() / theirs.std() < 2.0, s.key


def test_chunks_join_without_a_jump_in_temperature():
    *_, values = _values(0, days=3, interval_s=10, mtbf=float("inf"), chunk=1000)
    steps = np.abs(np.diff(values["temperature"]))
    at_joins = steps[999::1000]
    assert at_joins.max() < 4 * steps.std() + steps.mean()


def test_faults_fit_in_the_range_and_planned_stops_keep_clear_of_them():
    grid = Grid.ending(END, days=60, interval_s=10)
    hour = grid.ticks(3600)
    for i, machine in enumerate(demo_fleet(6)):
        plan = plan_machine(
            machine, grid=grid, rng=np.random.default_rng([9, i]), mean_days_between_failures=3
        )
        assert plan.faults
        ends = [0]
        for f in plan.faults:
            assert ends[-1] <= f.onset < f.failure < f.repaired <= grid.n - hour
            assert 3 * hour <= f.failure - f.onset <= 6 * hour
            assert hour <= f.repaired - f.failure <= 4 * hour
            ends.append(f.repaired)
        for start, end in plan.stops:
            assert all(end + hour <= f.onset or f.repaired + hour <= start for f in plan.faults)


def test_plans_and_values_are_reproducible_from_the_seed():
    a = _values(1, days=5, interval_s=30, mtbf=1)
    b = _values(1, days=5, interval_s=30, mtbf=1)
    assert a[2] == b[2]
    for key in a[3]:
        np.testing.assert_array_equal(a[3][key], b[3][key])


def test_crossings_follow_the_window_mean_and_escalate():
    machine = demo_fleet(1)[0]  # motor: vibration warning 3.6, critical 5.4 mm/s
    vib = np.array([1.8] * 10 + [3.0, 4.2, 4.2, 5.0, 6.0, 6.0, 1.8, 1.8])
    values = np.stack([np.full(vib.size, 55.0), vib, np.full(vib.size, 1480.0)])
    window = Window(100, 100 + vib.size)
    window.parts.append(values)
    (hit,) = crossings(window, machine.sensors, mean_ticks=2)
    assert (hit.sensor.key, hit.side, hit.critical) == ("vibration", "HIGH", True)
    assert hit.raised == 100 + 11  # mean of 3.0 and 4.2 is the first at or above 3.6
    assert hit.last_seen == 100 + 16  # mean of 6.0 and 1.8
    assert hit.value == 6.0 and hit.limit == 5.4


def test_the_simulator_imports_nothing_of_the_app():
    code = (
        "import sys, simulator.__main__, simulator.bulk_history, simulator.limit_crossings,"
        " simulator.labelled\n"
        "app = {'app', 'cli', 'config', 'worker', 'data', 'ingest', 'ml', 'maintenance', 'web'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in app))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
