"""The data interface refuses what would be learned wrongly, and reads any unit ids alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import wear_history, write_history

from ml.dataset import DataError, RunToFailure, load_csv
from ml.windows import Params, build_windows

PARAMS = Params(window=12, step_s=600.0, horizon_h=6.0, stride=3)


@pytest.mark.parametrize("ids", ["int", "mixed"])
def test_numeric_string_and_mixed_unit_ids_give_identical_labels(tmp_path, ids):
    text = load_csv(*write_history(tmp_path / "text", *wear_history(units=4, seed=1)))
    other = load_csv(*write_history(tmp_path / ids, *wear_history(units=4, seed=1, ids=ids)))
    a, b = build_windows(text, PARAMS), build_windows(other, PARAMS)
    assert len(a.ends) == len(b.ends) > 100
    assert np.isfinite(a.ttf_h).sum() == len(a.ends)  # every unit runs to a failure it knows
    # the same units (in another order, as their ids sort differently), the same labels
    assert np.array_equal(np.sort(a.ttf_h), np.sort(b.ttf_h))
    assert np.array_equal(np.sort(a.age_h), np.sort(b.age_h))
    assert sorted(pd.Series(a.units).value_counts()) == sorted(pd.Series(b.units).value_counts())


def test_ids_read_as_numbers_in_memory_match_too():
    readings, failures = wear_history(units=3, seed=2, ids="int")
    data = RunToFailure(readings, failures, ("wear", "temp", "load"))
    assert set(data.failures["unit"]) == set(data.readings["unit"]) == {"0", "1", "2"}
    assert (build_windows(data, PARAMS).ttf_h < np.inf).all()


def test_a_failure_that_matches_no_unit_is_an_error():
    readings, failures = wear_history(units=3, seed=2)
    failures.loc[0, "unit"] = "press-99"
    with pytest.raises(DataError, match=r"no readings: \['press-99'\]"):
        RunToFailure(readings, failures, ("wear", "temp", "load"))


def test_a_constant_or_empty_sensor_is_an_error(tmp_path):
    readings, failures = wear_history(units=3, seed=2)
    with pytest.raises(DataError, match="'load' is constant"):
        load_csv(*write_history(tmp_path / "c", readings.assign(load=1.0), failures))
    with pytest.raises(DataError, match="'load' has no numeric values"):
        load_csv(*write_history(tmp_path / "e", readings.assign(load=np.nan), failures))


def test_irregular_times_are_refused_unless_resampled(tmp_path):
    readings, failures = wear_history(units=3, seed=2)
    jitter = pd.to_timedelta(np.random.default_rng(0).integers(0, 200, len(readings)), unit="s")
    readings["time"] = readings["time"] + jitter
    paths = write_history(tmp_path, readings, failures)
    with pytest.raises(DataError, match="not on a regular step of 600 s"):
        load_csv(*paths, step_s=600)
    data = load_csv(*paths, step_s=600, resample=True)
    steps = data.readings.groupby("unit")["time"].diff().dropna().dt.total_seconds()
    assert set(steps) == {600.0}
