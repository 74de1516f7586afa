"""Drift statistics on synthetic data: no drift gives a small PSI, a shift a large one; the
reference survives a round trip; live windows count what is missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.drift import bin_shares, compare, psi, quantile_edges
from ml.drift_live import machine_drift, period_windows
from ml.drift_reference import Reference, TypeReference, load_reference, sample_rows
from ml.features import Baseline, feature_names, window_features


def _normal(rows: int, features: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, features))


def test_no_drift_gives_a_small_psi_and_a_shift_a_large_one_on_that_feature_only():
    reference, current = _normal(1000, 12, 1), _normal(3000, 12, 2)
    current[:, 4] += 1.0  # one standard deviation: a recalibrated sensor
    value = psi(reference, current)
    assert np.delete(value, 4).max() < 0.05
    assert value[4] > 0.5
    assert int(np.argmax(value)) == 4


def test_compare_tests_every_feature_at_once():
    reference, current = _normal(800, 5, 3), _normal(800, 5, 4)
    current[:, 0] *= 2.0  # wider spread, same mean
    d = compare(reference, current)
    assert d.p_value.shape == (5,)
    assert d.p_value[0] < 1e-6
    assert np.delete(d.p_value, 0).min() > 1e-3
    assert d.out_of_range[0] > 0.05 > np.delete(d.out_of_range, 0).max()
    assert np.allclose(d.reference_shares.sum(axis=1), 1)
    assert np.allclose(d.current_shares.sum(axis=1), 1)


def test_bins_are_the_references_deciles():
    reference = np.arange(1000, dtype=float)[:, None]
    shares = bin_shares(reference, quantile_edges(reference))
    assert np.allclose(shares, 0.1, atol=0.002)


def test_too_few_rows_give_no_number():
    d = compare(_normal(100, 3, 5), np.full((1, 3), np.nan))
    assert np.isnan(d.psi).all()


def test_reference_round_trip_and_a_model_without_one(tmp_path):
    ref = Reference(
        ("temperature_level", "rpm_level"),
        {"pump": TypeReference(_normal(50, 2, 6), _normal(50, 2, 7))},
    )
    ref.save(tmp_path)
    back = load_reference(tmp_path)
    assert back is not None and back.feature_names == ref.feature_names
    assert np.allclose(back.by_type["pump"].features, ref.by_type["pump"].features, atol=1e-6)
    assert load_reference(tmp_path / "elsewhere") is None


def test_sample_rows_keeps_at_most_n_per_type():
    types = np.array(["a"] * 30 + ["b"] * 5)
    rows = sample_rows(types, per_type=10, seed=1)
    assert (types[rows] == "a").sum() == 10 and (types[rows] == "b").sum() == 5


def test_period_windows_leave_out_gaps_and_count_them():
    rows = [
        (machine, "pump", kind, bucket, 1.0)
        for machine in (1, 2)
        for kind in ("temperature", "rpm")
        for bucket in range(100, 120)
        if not (machine == 2 and kind == "rpm" and bucket == 110)
    ]
    frame = pd.DataFrame(rows, columns=["machine_id", "type", "kind", "bucket", "value"])
    live = period_windows(
        frame, sensors=("temperature", "rpm"), window=5, stride=5, first_bucket=100, last_bucket=119
    )
    assert live.x3.shape == (7, 5, 2)  # 4 windows each, one of machine 2's has the gap
    assert list(live.machine_ids).count(2) == 3
    assert live.missing["pump"] == pytest.approx([0.0, 1 / 40])


def test_period_windows_keep_at_most_the_cap_per_type():
    rows = [
        (machine, "pump" if machine < 3 else "fan", kind, bucket, float(bucket))
        for machine in range(1, 6)
        for kind in ("temperature", "rpm")
        for bucket in range(0, 100)
    ]
    frame = pd.DataFrame(rows, columns=["machine_id", "type", "kind", "bucket", "value"])
    live = period_windows(
        frame,
        sensors=("temperature", "rpm"),
        window=10,
        stride=1,
        first_bucket=0,
        last_bucket=99,
        max_per_type=25,
    )
    assert (live.types == "pump").sum() == 25 and (live.types == "fan").sum() == 25
    # each window is a real one: ten consecutive buckets of its machine
    assert np.all(np.diff(live.x3[:, :, 0], axis=1) == 1.0)


def _fleet(offset: float, seed: int) -> pd.DataFrame:
    """Five pumps, 400 steps of noise; pump 3 reads ``offset`` higher on temperature."""
    rng = np.random.default_rng(seed)
    rows = [
        (
            machine,
            "pump",
            kind,
            bucket,
            rng.normal() + (offset if (machine, kind) == (3, "temperature") else 0.0),
        )
        for machine in range(1, 6)
        for kind in ("temperature", "rpm")
        for bucket in range(400)
    ]
    return pd.DataFrame(rows, columns=["machine_id", "type", "kind", "bucket", "value"])


def _windows(frame: pd.DataFrame):
    return period_windows(
        frame, sensors=("temperature", "rpm"), window=20, stride=5, first_bucket=0, last_bucket=399
    )


def test_machine_levels_are_the_window_features_and_one_moved_machine_is_named():
    baseline = Baseline(("temperature", "rpm"), {"pump": [0.0, 0.0]}, {"pump": [1.0, 1.0]})
    names = tuple(feature_names(baseline.sensors))
    train = _windows(_fleet(0.0, 1))
    ref = Reference(
        names,
        {"pump": TypeReference(window_features(train.x3, train.types, baseline), np.zeros((1, 2)))},
    )
    live = _windows(_fleet(1.5, 2))
    d = machine_drift(reference=ref, baseline=baseline, live=live)
    assert d is not None and d.names == (
        "temperature_level",
        "temperature_recent",
        "rpm_level",
        "rpm_recent",
    )
    # the cumulative sums give window_features' numbers on the same windows
    feats = window_features(live.x3, live.types, baseline)
    mine = feats[live.machine_ids == 3][:, [names.index(n) for n in d.names]]
    assert d.windows.tolist() == [len(mine)] * 5
    worst = int(np.nanargmax(d.psi[:, 0]))
    assert d.machine_ids[worst] == 3
    assert d.psi[worst, 0] > 3 and np.delete(d.psi[:, 0], worst).max() < 0.5
    assert d.psi[:, 2:].max() < 0.5  # rpm did not move
    # same windows, same numbers
    level = _levels(live, baseline, machine=3)
    assert np.allclose(level, mine[:, [0, 1]])


def _levels(live, baseline, machine: int) -> np.ndarray:
    """Machine ``machine``'s temperature level and recent level per window, by hand."""
    row = int(np.flatnonzero(live.grid_ids == machine)[0])
    z = live.grid[row, :, 0]
    ends = np.arange(z.shape[0], live.window - 1, -live.stride)[::-1]
    return np.array([[z[e - live.window : e].mean(), z[e - 5 : e].mean()] for e in ends])


def test_a_machine_of_a_type_the_reference_does_not_know_is_not_judged():
    baseline = Baseline(("temperature", "rpm"), {"pump": [0.0, 0.0]}, {"pump": [1.0, 1.0]})
    ref = Reference(tuple(feature_names(baseline.sensors)), {})
    assert machine_drift(reference=ref, baseline=baseline, live=_windows(_fleet(0, 3))) is None


def test_ks_p_value_is_exact_on_small_samples_and_close_to_it_on_large_ones():
    from scipy import stats

    from ml.drift import EXACT_KS_PAIRS, compare

    rng = np.random.default_rng(5)
    reference = rng.normal(size=(1000, 4))
    small = rng.normal(0.1, 1.0, size=(EXACT_KS_PAIRS // 1000, 4))  # a million pairs: exact
    large = rng.normal(0.1, 1.0, size=(4000, 4))  # four million: asymptotic
    exact = stats.ks_2samp(reference, small, axis=0, method="exact")
    np.testing.assert_allclose(compare(reference, small).p_value, exact.pvalue, rtol=1e-12)
    got = compare(reference, large)
    exact = stats.ks_2samp(reference, large, axis=0, method="exact")
    np.testing.assert_allclose(got.ks, exact.statistic, atol=1e-12)  # the same statistic
    np.testing.assert_allclose(got.p_value, exact.pvalue, atol=0.01)
    assert not np.allclose(got.p_value, exact.pvalue, rtol=1e-12, atol=0)  # not the exact one
