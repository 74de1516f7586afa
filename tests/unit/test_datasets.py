"""The external data sets (progpy's pump, valve and battery, PyBaMM's cell): long format,
regular step, failures after their units' readings, lives that differ, the same output for
the same seed. Tiny fleets, wear sped up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.datasets import progpy_sets, pybamm_sets
from ml.dataset import load_csv, regular_step

GENERATORS = {name: module for module in (progpy_sets, pybamm_sets) for name in module.SETS}
SETS = progpy_sets.SETS | pybamm_sets.SETS


def generate(name: str, **options: float):  # noqa: ANN201 - a DataSet
    return GENERATORS[name].generate(name, **options)


def main(argv: list[str]) -> int:
    return GENERATORS[argv[0]].main(argv)


# wear sped up so that lives last hours; a valve's wear comes per stroke, strokes come hours
# apart, and too fast a wear would fail its first stroke
FAST = {
    "pump": {"units": 3, "seed": 5, "step_s": 60.0, "wear_scale": 30.0},
    "valve": {"units": 3, "seed": 5, "step_s": 60.0, "wear_scale": 5.0},
    "battery": {"units": 3, "seed": 5, "step_s": 60.0, "wear_scale": 8.0},
    "cell": {"units": 3, "seed": 5, "step_s": 60.0, "wear_scale": 4.0},
}
IDS = {
    "pump": ["p01", "p02", "p03"],
    "valve": [1, 2, 3],
    "battery": ["cell-001", "cell-002", "cell-003"],
    "cell": ["cell-01", "cell-02", "cell-03"],
}


@pytest.fixture(scope="module", params=sorted(SETS))
def made(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.param
    out = tmp_path_factory.mktemp(name)
    main([name, "--out", str(out), *_flags(FAST[name])])
    return name, out


def _flags(options: dict[str, float]) -> list[str]:
    return [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]


def _read(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    readings = pd.read_csv(out / "readings.csv", parse_dates=["time"])
    return readings, pd.read_csv(out / "failures.csv", parse_dates=["failure"])


def test_files_are_in_the_long_format(made):
    name, out = made
    readings, failures = _read(out)
    assert list(readings.columns) == ["unit", "type", "time", *SETS[name].sensors]
    assert list(failures.columns) == ["unit", "failure", "mode"]
    assert readings["type"].nunique() == 1 and str(readings["time"].dt.tz) == "UTC"
    assert readings[list(SETS[name].sensors)].notna().all().all()


def test_unit_ids_are_text_for_the_pump_and_cells_and_numbers_for_the_valve(made):
    name, out = made
    readings, _ = _read(out)
    assert sorted(readings["unit"].unique().tolist()) == IDS[name]


def test_every_unit_runs_on_a_regular_step_from_its_install_to_its_failure(made):
    _, out = made
    readings, failures = _read(out)
    steps = readings.groupby("unit")["time"].diff().dropna()
    assert (steps == pd.Timedelta(seconds=60)).all()
    spans = readings.groupby("unit")["time"].agg(["min", "max"])
    joined = failures.set_index("unit").join(spans, how="left")
    assert joined["min"].notna().all(), "a failure names a unit without readings"
    assert (joined["failure"] > joined["max"]).all()
    assert (joined["failure"] - joined["max"] <= pd.Timedelta(seconds=60)).all()
    lives = joined["failure"] - joined["min"]
    assert lives.nunique() == len(lives) and spans["min"].nunique() == len(spans)


def test_the_platform_loads_the_files(made):
    name, out = made
    data = load_csv(out / "readings.csv", out / "failures.csv")
    assert data.sensors == SETS[name].sensors
    assert regular_step(data.readings) == 60.0
    assert set(data.failures["unit"]) == set(data.readings["unit"])


@pytest.mark.parametrize("name", sorted(SETS))
def test_a_seed_gives_the_same_data_and_another_seed_other_data(name):
    first, again = generate(name, **FAST[name]), generate(name, **FAST[name])
    pd.testing.assert_frame_equal(first.readings, again.readings)
    pd.testing.assert_frame_equal(first.failures, again.failures)
    other = generate(name, **(FAST[name] | {"seed": 6}))
    assert not other.failures["failure"].equals(first.failures["failure"])


@pytest.mark.parametrize("name", ["pump", "battery", "cell"])
def test_truncated_sets_end_before_failure_and_give_the_hours_left(tmp_path, name):
    main([name, "--out", str(tmp_path), "--truncate", *_flags(FAST[name])])
    whole = generate(name, **FAST[name])
    readings, failures = _read(tmp_path)
    rul = pd.read_csv(tmp_path / "test_rul.csv").set_index("unit")["rul_h"]
    assert failures.empty and sorted(rul.index) == IDS[name]
    last = readings.groupby("unit")["time"].max()
    failure = whole.failures.set_index("unit")["failure"]
    truth = (failure - last) / pd.Timedelta(hours=1)
    assert (rul > 0).all()
    pd.testing.assert_series_equal(
        rul.sort_index(), truth.sort_index(), check_names=False, atol=1e-3
    )
    assert (last < whole.readings.groupby("unit")["time"].max()).any()


@pytest.mark.parametrize("made", ["battery"], indirect=True)
def test_battery_cells_cycle_within_their_voltage_window_and_fade_until_they_fail(made):
    _, out = made
    readings, failures = _read(out)
    lives = failures.set_index("unit")["failure"] - readings.groupby("unit")["time"].min()
    hours = lives / pd.Timedelta(hours=1)
    assert hours.between(1, 24).all(), hours  # wear x8: lives of hours, not days
    for _, cell in readings.groupby("unit"):
        # the BMS stops the discharge at 3.0 V and the charger at 4.2 V (noise: 5 mV)
        assert cell["v"].between(2.9, 4.35).all()
        assert cell["v"].max() > 4.1 and cell["v"].min() < 3.3
        # discharging (+) and charging (-) both happen, and rests between them
        assert (
            (cell["i"] > 0.5).any() and (cell["i"] < -0.5).any() and (cell["i"].abs() < 0.05).any()
        )
        # the charge each discharge delivers falls as the cell wears (the first is the rating)
        delivered = cell["discharge_ah"]
        assert delivered.iloc[0] == pytest.approx(2.11, abs=0.03)
        assert delivered.iloc[-1] < delivered.iloc[0] - 0.1


@pytest.mark.parametrize("made", ["cell"], indirect=True)
def test_pybamm_cells_cycle_within_their_voltage_window_warm_up_and_fade_until_they_fail(made):
    _, out = made
    readings, failures = _read(out)
    lives = failures.set_index("unit")["failure"] - readings.groupby("unit")["time"].min()
    assert (lives / pd.Timedelta(hours=1)).between(3, 60).all(), lives  # wear x4: hours
    for _, cell in readings.groupby("unit"):
        assert (cell[list(SETS["cell"].sensors)].nunique() > 10).all(), "a sensor is constant"
        # the BMS stops the discharge at 2.5 V and the charger at 4.2 V (noise: 5 mV)
        assert cell["v"].between(2.45, 4.25).all()
        assert cell["v"].max() > 4.15 and cell["v"].min() < 2.8
        # discharging (+) and charging (-) both happen, and rests between them
        assert (cell["i"] > 1).any() and (cell["i"] < -1).any() and (cell["i"].abs() < 0.1).any()
        # the lumped thermal model: the cell is warmer under load than at rest
        assert cell.loc[cell["i"] > 1, "t"].mean() > cell.loc[cell["i"].abs() < 0.1, "t"].mean()
        # the datasheet's 5 Ah until the first discharge ends, then what each one delivered:
        # less and less, the last logged still above 80 % of the first (the end of life)
        assert cell["discharge_ah"].iloc[0] == pytest.approx(5.0, abs=0.04)
        charged = cell.loc[cell.index[cell["i"] < -1][0] :, "discharge_ah"]
        first, last = charged.iloc[:10].median(), cell["discharge_ah"].iloc[-10:].median()
        assert 0.8 * first - 0.03 < last < first - 0.1
