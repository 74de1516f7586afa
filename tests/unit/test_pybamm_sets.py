"""The PyBaMM cell set: long format, regular step, failures after their cells' readings, lives
that differ, the same output for the same seed, cells that cycle and fade. A tiny fleet, wear
sped up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.datasets.pybamm_sets import SETS, generate, main
from ml.dataset import load_csv, regular_step

FAST = {"units": 3, "seed": 5, "step_s": 60.0, "wear_scale": 4.0}
IDS = ["cell-01", "cell-02", "cell-03"]
SENSORS = list(SETS["cell"].sensors)


def _flags(options: dict[str, float]) -> list[str]:
    return [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]


def _read(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    readings = pd.read_csv(out / "readings.csv", parse_dates=["time"])
    return readings, pd.read_csv(out / "failures.csv", parse_dates=["failure"])


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cell")
    main(["cell", "--out", str(out), *_flags(FAST)])
    return out


@pytest.fixture(scope="module")
def whole():
    return generate("cell", **FAST)


def test_files_are_in_the_long_format(made):
    readings, failures = _read(made)
    assert list(readings.columns) == ["unit", "type", "time", *SENSORS]
    assert list(failures.columns) == ["unit", "failure"]
    assert readings["type"].unique().tolist() == ["pybamm-cell"]
    assert str(readings["time"].dt.tz) == "UTC"
    assert readings[SENSORS].notna().all().all()
    assert sorted(readings["unit"].unique().tolist()) == IDS == sorted(failures["unit"])


def test_every_cell_runs_on_a_regular_step_from_its_install_to_its_failure(made):
    readings, failures = _read(made)
    steps = readings.groupby("unit")["time"].diff().dropna()
    assert (steps == pd.Timedelta(seconds=60)).all()
    spans = readings.groupby("unit")["time"].agg(["min", "max"])
    joined = failures.set_index("unit").join(spans, how="left")
    assert joined["min"].notna().all(), "a failure names a cell without readings"
    assert (joined["failure"] > joined["max"]).all()
    assert (joined["failure"] - joined["max"] <= pd.Timedelta(seconds=60)).all()
    lives = joined["failure"] - joined["min"]
    assert lives.nunique() == len(lives) and spans["min"].nunique() == len(spans)


def test_the_platform_loads_the_files(made):
    data = load_csv(made / "readings.csv", made / "failures.csv")
    assert list(data.sensors) == SENSORS
    assert regular_step(data.readings) == 60.0
    assert set(data.failures["unit"]) == set(data.readings["unit"])


def test_a_seed_gives_the_same_data_and_another_seed_other_data(whole):
    again = generate("cell", **FAST)
    pd.testing.assert_frame_equal(whole.readings, again.readings)
    pd.testing.assert_frame_equal(whole.failures, again.failures)
    other = generate("cell", **(FAST | {"seed": 6}))
    assert not other.failures["failure"].equals(whole.failures["failure"])


def test_truncated_sets_end_before_failure_and_give_the_hours_left(tmp_path, whole):
    main(["cell", "--out", str(tmp_path), "--truncate", *_flags(FAST)])
    readings, failures = _read(tmp_path)
    rul = pd.read_csv(tmp_path / "test_rul.csv").set_index("unit")["rul_h"]
    assert failures.empty and sorted(rul.index) == IDS
    last = readings.groupby("unit")["time"].max()
    failure = whole.failures.set_index("unit")["failure"]
    truth = (failure - last) / pd.Timedelta(hours=1)
    assert (rul > 0).all()
    pd.testing.assert_series_equal(
        rul.sort_index(), truth.sort_index(), check_names=False, atol=1e-3
    )
    assert (last < whole.readings.groupby("unit")["time"].max()).all()


def test_cells_cycle_within_their_voltage_window_warm_up_and_fade_until_they_fail(made):
    readings, failures = _read(made)
    lives = failures.set_index("unit")["failure"] - readings.groupby("unit")["time"].min()
    assert (lives / pd.Timedelta(hours=1)).between(3, 60).all(), lives  # wear x4: hours
    for _, cell in readings.groupby("unit"):
        assert (cell[SENSORS].nunique() > 10).all(), "a sensor is constant"
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
