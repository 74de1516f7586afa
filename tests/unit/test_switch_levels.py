"""Sensors that are on/off switches (a valve's end switches) tell the machine's state; the
forests may also see the other sensors' levels in each switch position, where the
out-of-fold errors say they help."""

from __future__ import annotations

import numpy as np
from factories import valve_history, write_history

from ml.dataset import load_csv
from ml.inputs import failure_scores, load_failure_model, switch_levels, switches
from ml.pipeline import train
from ml.trees import COLUMN_SETS, columns_text
from ml.windows import Params, build_windows


def test_only_sensors_that_read_0_and_1_are_switches():
    rng = np.random.default_rng(0)
    x3 = np.stack(
        [
            rng.integers(0, 2, size=(5, 8)).astype(float),  # a switch
            rng.normal(size=(5, 8)),  # a pressure
            np.zeros((5, 8)),  # never on: no state to tell
            rng.integers(0, 3, size=(5, 8)).astype(float),  # a three-way selector
            np.where(rng.random((5, 8)) < 0.5, 0.0, 1.0) + 1e-3,  # almost 0/1: a measurement
            rng.integers(0, 2, size=(5, 8)).astype(float),  # another switch
        ],
        axis=2,
    )
    assert switches(x3) == (0, 5)


def test_switch_levels_are_the_other_sensors_means_while_each_switch_is_on():
    on = np.array([[1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]], float)
    level = np.array([[2.0, 4.0, 9.0, 9.0], [1.0, 1.0, 1.0, 1.0], [3.0, 0.0, 5.0, 0.0]])
    x3 = np.stack([on, level, 1 - on], axis=2)  # two switches, one sensor
    out = switch_levels(x3, x3, (0, 2))
    assert out.shape == (3, 2)
    assert out[0].tolist() == [3.0, 9.0] and out[2].tolist() == [4.0, 0.0]
    assert np.isnan(out[1, 0]) and out[1, 1] == 1.0  # never on in the window: unknown


def test_a_forest_learns_a_leak_that_only_one_switch_position_shows(tmp_path):
    """On valves whose pressure falls with a leak only while open, the forests choose to see
    the levels per switch position on the training units' out-of-fold errors, keep which
    sensors are switches through save and load, and score the same after it."""
    data = load_csv(*write_history(tmp_path, *valve_history(units=15, seed=3)))
    params = Params(window=12, epochs=1, stride=3, n_estimators=30, family="tree", seed=3)
    trained = train(data, params)
    assert trained.failure.switches == (data.sensors.index("opened"),)
    errors = trained.losses["oof_rul_rmse_h_by_columns"]
    assert set(errors) == set(COLUMN_SETS)  # the switch levels were candidates
    chosen = trained.losses["tree_columns"]
    assert COLUMN_SETS[chosen][2], f"the switch levels were not chosen: {errors}"
    assert errors[chosen] < 0.9 * errors["window"]

    trained.failure.save(tmp_path / "model")
    loaded = load_failure_model(tmp_path / "model")
    assert loaded.switches == trained.failure.switches
    w = build_windows(
        load_csv(*write_history(tmp_path / "new", *valve_history(units=3, seed=4))), params
    )
    args = (w.x3, w.types, w.context(), trained.baseline, trained.type_names)
    assert np.allclose(failure_scores(loaded, *args)[1], failure_scores(trained.failure, *args)[1])


def test_what_the_forests_see_is_said_in_words():
    assert columns_text("window") == "window"
    assert columns_text("window_and_drift") == "window + drift"
    said = columns_text("window_drift_extremes_and_switch_levels")
    assert said == "window + drift, extremes, switch levels"
