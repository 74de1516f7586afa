"""Window features and labels on hand-made data with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from maintenance.ops.model_lab import simulated
from ml.dataset import RunToFailure, load_csv
from ml.features import Baseline, feature_names, labels_at, window_features, windows_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _baseline() -> Baseline:
    return Baseline(
        ("temperature", "vibration", "rpm"),
        mean={"pump": [50.0, 2.0, 1500.0]},
        std={"pump": [1.0, 0.1, 10.0]},
    )


def test_features_read_as_standard_deviations_from_healthy():
    w = 10
    x3 = np.tile([50.0, 2.0, 1500.0], (2, w, 1))
    x3[1, :, 1] = 2.0 + 0.1 * np.arange(w)  # vibration rising by one sd per step
    f = window_features(x3, np.array(["pump", "pump"]), _baseline())
    names = feature_names(("temperature", "vibration", "rpm"))
    assert f.shape == (2, len(names))
    col = {n: i for i, n in enumerate(names)}
    assert np.allclose(f[0, col["vibration_level"]], 0) and np.allclose(f[0, col["rpm_trend"]], 0)
    assert np.isclose(f[1, col["vibration_trend"]], 1.0)  # +1 sd per step
    assert np.isclose(f[1, col["vibration_level"]], 4.5)  # mean of 0..9
    assert np.isclose(f[1, col["vibration_recent"]], 7.0)  # mean of the last five: 5..9
    assert f[1, col["vibration_rms_ratio"]] > f[0, col["vibration_rms_ratio"]] == 1.0


def test_windows_end_where_asked():
    values = np.arange(20, dtype=float).reshape(10, 2)
    win = windows_at(values, np.array([3, 9]), 4)
    assert win.shape == (2, 4, 2)
    assert win[0, :, 0].tolist() == [0, 2, 4, 6] and win[1, -1].tolist() == [18, 19]


def test_labels_count_hours_to_the_next_failure_and_mark_downtime():
    times = np.array([0, 3600, 7200, 10800, 14400, 18000], dtype=float) + T0.timestamp()
    failures = pd.DataFrame(
        {
            "failure": [T0 + timedelta(hours=2), T0 + timedelta(hours=5)],
            "repaired": [T0 + timedelta(hours=2, minutes=30), T0 + timedelta(hours=5)],
            "onset": [T0 + timedelta(hours=1), pd.NaT],
        }
    )
    labels = labels_at(times, failures)
    assert labels["ttf_h"].tolist() == [2, 1, 3, 2, 1, np.inf]
    assert labels["down"].tolist() == [False, False, True, True, False, True]
    assert labels["faulty"].tolist() == [False, True, False, False, False, False]


def test_any_long_format_csv_is_accepted(tmp_path):
    data = simulated(machines=3, days=0.5, seed=4)
    data.readings.to_csv(tmp_path / "r.csv", index=False)
    data.failures[["unit", "failure"]].to_csv(tmp_path / "f.csv", index=False)
    loaded = load_csv(
        tmp_path / "r.csv", tmp_path / "f.csv", sensors=("temperature", "vibration", "rpm")
    )
    assert isinstance(loaded, RunToFailure)
    assert len(loaded.readings) == len(data.readings) == 3 * 720
    assert loaded.readings["time"].dt.tz is not None
    assert set(loaded.failures.columns) >= {"unit", "failure", "repaired"}


def test_a_model_of_an_earlier_release_keeps_its_per_machine_levels():
    base = _baseline()
    base.unit_mean["pump-07"] = [53.0, 2.0, 1500.0]  # this pump always runs 3 °C warmer
    x3 = np.tile([53.0, 2.0, 1500.0], (2, 10, 1))
    f = window_features(x3, np.array(["pump", "pump"]), base, np.array(["pump-07", "pump-99"]))
    level = feature_names(("temperature", "vibration", "rpm")).index("temperature_level")
    assert np.isclose(f[0, level], 0.0)  # normal for pump-07
    assert np.isclose(f[1, level], 3.0)  # 3 sd above a typical pump: unknown machine
    assert Baseline.from_json(base.to_json()).unit_mean == base.unit_mean
