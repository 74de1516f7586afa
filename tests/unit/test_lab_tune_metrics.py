"""Threshold tuning on hand-made labelled histories with answers worked out by hand: recall,
precision, false alarms per machine-week, lead time, the window confusion matrix, the
precision-recall curve, censoring of the last horizon; and the fast replay against the
reference implementation (ml.alarm_metrics) on random histories."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.alarm_metrics import alarm_metrics, replay_alarms
from ml.alarm_policy import (
    ANOMALY_CLEAR_BELOW,
    ANOMALY_SUSTAINED,
    CLEAR_RATIO,
    PredictionPolicy,
    live_hysteresis,
)
from ml.lab.replay import prepare_replay, replay_raises
from ml.lab.scored import threshold_metrics
from ml.lab.tune import GRID, pr_curve, sweep, threshold_grid

H = 3600.0
HORIZON = 6.0


def _windows(unit: str, hours: list[int], high: dict[int, float], failures: list[float]) -> list:
    """One window per hour in ``hours``; score 0.1 except ``high`` {hour: score}; ttf_h to
    the unit's next failure."""
    rows = []
    for h in hours:
        later = [f for f in failures if f >= h]
        ttf = (min(later) - h) if later else math.inf
        score = high.get(h, 0.1)
        rows.append({"unit": unit, "end": h * H, "prob": score, "anomaly": score, "ttf_h": ttf})
    return rows


def history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two units scored every hour from 0 h to 30 h.

    - A fails at 20 h (repaired 21 h, not scored at 20 h and 21 h); its score is 0.9 at
      17, 18 and 19 h: an alarm at 17 h catches the failure 3 h ahead.
    - B fails at 10 h (repaired 11 h, not scored at 10 h and 11 h) with no warning: missed;
      a spike to 0.9 at 14 h is a false alarm (nothing fails after it); another at 27 h
      falls in the last horizon (24 h … 30 h), where what follows is unknown.
    """
    a = _windows("A", [*range(0, 20), *range(22, 31)], {17: 0.9, 18: 0.9, 19: 0.9}, [20])
    b = _windows("B", [*range(0, 10), *range(12, 31)], {14: 0.9, 27: 0.9}, [10])
    failures = pd.DataFrame(
        {"unit": ["A", "B"], "failure": [20 * H, 10 * H], "repaired": [21 * H, 11 * H]}
    )
    return pd.DataFrame(a + b), failures


def metrics(threshold: float, **kw: object) -> dict:
    scores, failures = history()
    return threshold_metrics(
        scores, failures, horizon_h=HORIZON, threshold=threshold, clear_after_s=1800.0, **kw
    )


def test_one_caught_one_missed_one_false_alarm():
    m = metrics(0.5)
    assert (m["failures"], m["caught"]) == (2, 1)
    assert m["recall"] == 0.5
    # raises at 17 h on A (a failure 3 h later) and 14 h on B (none follows); 27 h on B is
    # after 30 h - 6 h and left out
    assert (m["raised"], m["true_alarms"], m["false_alarms"]) == (2, 1, 1)
    assert m["precision"] == 0.5
    assert m["median_lead_h"] == 3.0
    # scored time whose false alarms are known: 0 h … 24 h on each unit = 48 h
    assert m["machine_weeks"] == pytest.approx(48 / 168)
    assert m["false_alarms_per_machine_week"] == pytest.approx(1 / (48 / 168))  # 3.5


def test_confusion_matrix_counts_windows_whose_label_is_known():
    # known windows end by 24 h: A has 20 + 3, B 10 + 13; "fails within 6 h": A 14…19 h,
    # B 4…9 h (6 each). At 0.5, A's 17, 18, 19 h say so (right), B's 14 h says so (wrong);
    # B's 27 h is in the censored tail and not counted
    assert metrics(0.5)["confusion"] == {"tp": 3, "fp": 1, "fn": 9, "tn": 33}


def test_a_higher_threshold_catches_nothing_and_raises_nothing():
    m = metrics(0.95)
    assert (m["caught"], m["failures"], m["raised"], m["false_alarms"]) == (0, 2, 0, 0)
    assert m["recall"] == 0.0
    assert math.isnan(m["precision"]) and math.isnan(m["median_lead_h"])
    assert m["false_alarms_per_machine_week"] == 0.0
    assert m["confusion"] == {"tp": 0, "fp": 0, "fn": 12, "tn": 34}


def test_a_threshold_below_every_score_alarms_from_the_start():
    # at 0.05 every window is over the threshold: each unit alarms at 0 h (A's failure 20 h
    # later, B's 10 h later: caught, but too early to count as true) and again after its
    # repair (22 h on A, 12 h on B: nothing follows)
    m = metrics(0.05)
    assert (m["caught"], m["failures"]) == (2, 2)
    assert m["median_lead_h"] == 15.0  # leads 20 h and 10 h
    assert (m["raised"], m["true_alarms"], m["false_alarms"]) == (4, 0, 4)
    assert m["precision"] == 0.0
    assert m["confusion"] == {"tp": 12, "fp": 34, "fn": 0, "tn": 0}


def test_the_minimum_lead_decides_whether_a_late_alarm_counts():
    assert metrics(0.5, min_lead_h=3.0)["caught"] == 1  # exactly 3 h ahead
    late = metrics(0.5, min_lead_h=3.5)
    assert late["caught"] == 0 and math.isnan(late["median_lead_h"])


def test_censoring_moves_with_the_end_of_the_data():
    # with the data said to end at 40 h, nothing is censored up to 34 h: B's 27 h alarm
    # now counts (false), and every window too: 29 per unit, 6 of them positive
    m = metrics(0.5, data_end=40 * H)
    assert (m["raised"], m["false_alarms"]) == (3, 2)
    assert m["confusion"] == {"tp": 3, "fp": 2, "fn": 9, "tn": 2 * 23 - 2}
    assert m["machine_weeks"] == pytest.approx(60 / 168)  # 0 h … 30 h, two units


def test_a_failure_that_could_not_be_caught_is_left_out_of_recall():
    scores, failures = history()
    late = pd.DataFrame(_windows("C", [9, 12, 13], {}, [10]))  # first window 1 h before
    failures = pd.concat(
        [failures, pd.DataFrame({"unit": ["C"], "failure": [10 * H], "repaired": [11 * H]})]
    )
    m = threshold_metrics(
        pd.concat([scores, late]), failures, horizon_h=HORIZON, threshold=0.5, data_end=30 * H
    )
    assert (m["caught"], m["failures"]) == (1, 2)


def test_an_alarm_holds_through_a_short_dip_and_clears_after_a_long_one():
    def raises(clear_after_s: float) -> list[float]:
        hours = list(range(12))
        values = dict.fromkeys([1, 2, 5, 6], 0.9)  # dip at 3, 4 h
        scores = pd.DataFrame(_windows("A", hours, values, []))
        replay = prepare_replay(
            scores,
            pd.DataFrame(columns=["unit", "failure", "repaired"]),
            column="prob",
            horizon_h=HORIZON,
        )
        out = replay_raises(replay, threshold=0.5, clear_below=0.375, clear_after_s=clear_after_s)
        return (out["A"] / H).tolist()

    # below from 3 h: the clock starts there, so it clears at 4 h when 1 h is enough
    assert raises(2 * H) == [1.0]
    assert raises(1 * H) == [1.0, 5.0]


def test_the_anomaly_warning_needs_six_window_ends_in_a_row():
    scores, failures = history()
    # A's 0.9 at 17…19 h is three windows: enough for the failure alarm, not for a warning
    assert metrics(0.5, column="anomaly")["raised"] == 0
    longer = scores.copy()
    rows = (longer["unit"] == "A") & longer["end"].between(12 * H, 19 * H)
    longer.loc[rows, "anomaly"] = 0.9  # 12 … 19 h: eight in a row, the sixth at 17 h
    m = threshold_metrics(longer, failures, horizon_h=HORIZON, threshold=0.5, column="anomaly")
    assert (m["caught"], m["raised"], m["median_lead_h"]) == (1, 1, 3.0)


def test_live_hysteresis_follows_the_live_alarms():
    policy = PredictionPolicy()
    assert live_hysteresis("prob", 0.8) == (pytest.approx(policy.failure_clear_below), 1)
    live_anomaly = (policy.anomaly_clear_below, policy.anomaly_sustained)
    assert live_anomaly == (ANOMALY_CLEAR_BELOW, ANOMALY_SUSTAINED)
    assert live_hysteresis("anomaly", policy.anomaly_threshold) == (0.5, 6)
    assert live_hysteresis("anomaly", 0.4) == (pytest.approx(0.4 * CLEAR_RATIO), 6)


def test_sweep_gives_threshold_metrics_at_every_threshold():
    scores, failures = history()
    table = sweep(scores, failures, horizon_h=HORIZON, thresholds=[0.05, 0.5, 0.95])
    assert table["threshold"].tolist() == [0.05, 0.5, 0.95]
    assert table["recall"].tolist() == [1.0, 0.5, 0.0]
    assert table["raised"].tolist() == [4, 2, 0]
    row = table.iloc[1]
    assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (3, 1, 9, 33)
    assert row["false_alarms_per_machine_week"] == pytest.approx(3.5)


def test_the_threshold_grid_is_the_sliders_positions_plus_the_setting():
    assert GRID[0] == 0.05 and GRID[-1] == 0.95 and len(GRID) == 91
    grid = threshold_grid([0.825, 0.8])
    assert len(grid) == 92 and 0.825 in grid and grid == sorted(grid)


def test_precision_recall_curve_on_known_windows():
    scores, _ = history()
    pr = pr_curve(scores, horizon_h=HORIZON)
    assert (pr.positives, pr.negatives) == (12, 34)  # B's 27 h spike is censored
    points = dict(zip(pr.thresholds, zip(pr.recall, pr.precision, strict=False), strict=False))
    assert points[0.9] == (0.25, 0.75)  # 3 of the 12 positives; 3 of the 4 windows ≥ 0.9
    assert points[0.1] == (1.0, pytest.approx(12 / 46, abs=1e-4))
    # average precision: recall 0.25 at precision 0.75, then 0.75 more at 12/46
    assert pr.average_precision == pytest.approx(0.25 * 0.75 + 0.75 * 12 / 46)


def test_precision_recall_curve_needs_both_classes():
    scores, _ = history()
    healthy = scores.assign(ttf_h=math.inf)
    pr = pr_curve(healthy, horizon_h=HORIZON)
    assert pr.recall == [] and math.isnan(pr.average_precision) and pr.positives == 0


def _random_history(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames, fails = [], []
    for u in range(4):
        ends = np.sort(rng.choice(np.arange(0, 400) * 600.0, size=300, replace=False))
        failures = np.sort(rng.choice(ends, size=rng.integers(0, 4), replace=False)) + 300
        repaired = failures + rng.uniform(0, 2 * H, len(failures))
        values = np.clip(np.cumsum(rng.normal(0, 0.15, len(ends))) % 1.2, 0, 1)
        values[rng.random(len(ends)) < 0.02] = np.nan
        nxt = np.searchsorted(failures, ends)
        ttf = np.append(failures, np.inf)[nxt]
        frames.append(
            pd.DataFrame({"unit": f"u{u}", "end": ends, "prob": values, "ttf_h": (ttf - ends) / H})
        )
        fails += [(f"u{u}", f, r) for f, r in zip(failures, repaired, strict=True)]
    scores = pd.concat(frames).sample(frac=1.0, random_state=seed)  # any row order
    return scores, pd.DataFrame(fails, columns=["unit", "failure", "repaired"])


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.1, 0.45, 0.8])
def test_fast_replay_agrees_with_the_reference(seed: int, threshold: float):
    scores, failures = _random_history(seed)
    clear = threshold * CLEAR_RATIO
    units = scores["unit"].to_numpy()
    ends, values = scores["end"].to_numpy(float), scores["prob"].to_numpy(float)
    resets = {u: p["failure"].to_numpy(float) for u, p in failures.groupby("unit")}
    slow = replay_alarms(
        units,
        ends,
        values,
        resets=resets,
        threshold=threshold,
        clear_below=clear,
        clear_after_s=1800.0,
    )
    replay = prepare_replay(scores, failures, column="prob", horizon_h=HORIZON)
    fast = replay_raises(replay, threshold=threshold, clear_below=clear, clear_after_s=1800.0)
    assert {u: list(t) for u, t in fast.items()} == slow

    data_end = float(ends.max())
    ref = alarm_metrics(
        slow,
        failures,
        horizon_h=HORIZON,
        scored={u: ends[units == u] for u in np.unique(units)},
        censor_after=data_end - HORIZON * H,
    )
    m = threshold_metrics(scores, failures, horizon_h=HORIZON, threshold=threshold)
    assert (m["failures"], m["caught"], m["raised"], m["true_alarms"]) == (
        ref.failures,
        ref.caught,
        ref.raised,
        ref.true,
    )
    assert m["median_lead_h"] == pytest.approx(ref.median_lead_h, nan_ok=True)
