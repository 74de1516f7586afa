"""The evaluation metrics on hand-made alarms and failures with known answers, and the alarm
hysteresis they replay."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.alarm_metrics import (
    alarm_metrics,
    caught_by_mode,
    failure_leads,
    replay_alarms,
    roc_auc,
    rule_breaches,
    true_raises,
    window_alarm_metrics,
)
from ml.alarm_policy import alarm_raises

H = 3600.0


def test_lead_is_from_the_earliest_raise_at_least_min_lead_before_the_failure():
    leads = failure_leads(
        [1 * H, 5 * H, 7 * H], [10 * H], [11 * H], min_lead_s=2 * H
    )  # 1 h, 5 h and 7 h: the earliest is 9 h ahead
    assert leads == [9 * H]


def test_a_raise_too_close_to_the_failure_does_not_catch_it():
    leads = failure_leads([9 * H], [10 * H], [11 * H], min_lead_s=2 * H)
    assert math.isnan(leads[0])
    assert failure_leads([8 * H], [10 * H], [11 * H], min_lead_s=2 * H) == [2 * H]  # boundary


def test_a_raise_before_the_previous_repair_does_not_catch_the_next_failure():
    # failures at 10 h (repaired 11 h) and 20 h; a raise at 5 h catches only the first
    leads = failure_leads([5 * H], [20 * H, 10 * H], [21 * H, 11 * H], min_lead_s=2 * H)
    assert leads[1] == 5 * H  # results follow the order of the arguments
    assert math.isnan(leads[0])
    # a raise after the repair catches the second failure
    leads = failure_leads([5 * H, 12 * H], [10 * H, 20 * H], [11 * H, 21 * H], min_lead_s=2 * H)
    assert leads == [5 * H, 8 * H]


def test_max_lead_ignores_raises_too_early_to_be_about_this_failure():
    leads = failure_leads([1 * H, 6 * H], [10 * H], [11 * H], min_lead_s=2 * H, max_lead_s=6 * H)
    assert leads == [4 * H]
    assert math.isnan(
        failure_leads([1 * H], [10 * H], [11 * H], min_lead_s=2 * H, max_lead_s=6 * H)[0]
    )


def test_true_raises_need_a_failure_within_the_horizon_after_them():
    flags = true_raises([1 * H, 3 * H, 10 * H, 11 * H], [9 * H], horizon_s=6 * H)
    # 1 h: failure 8 h later (too late); 3 h: 6 h later (exactly H); 10 h, 11 h: after it
    assert flags == [False, True, False, False]
    assert true_raises([1 * H], [], horizon_s=6 * H) == [False]


def _failures(rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame([(u, f, f + H) for u, f in rows], columns=["unit", "failure", "repaired"])


def test_fleet_recall_precision_and_median_lead():
    failures = _failures([("a", 10 * H), ("a", 30 * H), ("b", 20 * H), ("c", 50 * H)])
    raises = {
        "a": [6 * H, 29 * H],  # catches 10 h (lead 4 h); 29 h is true but too late
        "b": [2 * H, 17 * H],  # 2 h: false (failure 18 h ahead, not within H) but early
        "c": [],  # missed
        "d": [5 * H],  # no failure at all: false
    }
    m = alarm_metrics(raises, failures, horizon_h=6, min_lead_h=2)
    assert (m.failures, m.caught) == (4, 2)
    assert m.recall == pytest.approx(0.5)
    assert (m.raised, m.true) == (5, 3)
    assert m.precision == pytest.approx(3 / 5)
    # any raise after the previous repair counts: b's false alarm at 2 h gives an 18 h lead
    assert sorted(m.leads_h) == pytest.approx([4.0, 18.0])
    assert m.median_lead_h == pytest.approx(11.0)
    # raises must also be within H of the failure: b is caught by 17 h (lead 3 h)
    strict = alarm_metrics(raises, failures, horizon_h=6, min_lead_h=2, max_lead_h=6)
    assert (strict.caught, strict.recall) == (2, 0.5)
    assert sorted(strict.leads_h) == pytest.approx([3.0, 4.0])
    assert strict.median_lead_h == pytest.approx(3.5)


def test_recall_by_failure_mode():
    failures = _failures([("a", 10 * H), ("a", 30 * H), ("b", 20 * H), ("c", 50 * H)])
    failures["mode"] = ["leak", "spring", "leak", "spring"]
    raises = {"a": [6 * H, 29 * H], "b": [2 * H, 17 * H], "c": []}
    m = alarm_metrics(raises, failures, horizon_h=6, min_lead_h=2)
    # a's leak at 10 h and b's leak caught; a's spring at 30 h (raised 1 h ahead) and c's missed
    assert caught_by_mode(m.outcomes, failures) == {"leak": [2, 2], "spring": [0, 2]}
    assert sum(c for c, _ in caught_by_mode(m.outcomes, failures).values()) == m.caught
    failures.loc[3, "mode"] = None  # a blank mode in the CSV
    assert caught_by_mode(m.outcomes, failures)["not given"] == [0, 1]


def test_the_replay_reports_modes_only_when_the_failures_name_them():
    units = np.array(["a"] * 20 + ["b"] * 20)
    ends = np.concatenate([np.arange(20) * H, np.arange(20) * H])
    score = np.where((units == "a") & (ends >= 12 * H), 0.95, 0.1)  # a warns 7 h ahead, b never
    failures = _failures([("a", 19.5 * H), ("b", 19.5 * H)])
    plain = window_alarm_metrics(units, ends, score, failures, horizon_h=12)
    assert plain["recall"] == 0.5 and "caught_by_mode" not in plain
    failures["mode"] = ["Failed to open", "Spring Failure"]
    named = window_alarm_metrics(units, ends, score, failures, horizon_h=12)
    assert named["caught_by_mode"] == {"Failed to open": [1, 1], "Spring Failure": [0, 1]}


def test_fleet_metrics_accept_timestamps():
    start = pd.Timestamp("2025-01-01", tz="UTC")
    failures = pd.DataFrame(
        {
            "unit": ["a"],
            "failure": [start + pd.Timedelta(hours=10)],
            "repaired": [start + pd.Timedelta(hours=11)],
        }
    )
    t0 = start.timestamp()
    m = alarm_metrics({"a": [t0 + 7 * H]}, failures, horizon_h=6)
    assert (m.recall, m.precision, m.median_lead_h) == (1.0, 1.0, pytest.approx(3.0))


def test_censored_raises_and_unscorable_failures_are_left_out():
    failures = _failures([("a", 10 * H), ("b", 3 * H)])
    raises = {"a": [7 * H, 40 * H]}  # 40 h: nothing known after it
    scored = {"a": np.arange(0, 48) * H, "b": np.arange(2, 48) * H}  # b: first score at 2 h
    m = alarm_metrics(
        raises, failures, horizon_h=6, min_lead_h=2, scored=scored, censor_after=36 * H
    )
    assert (m.failures, m.caught) == (1, 1)  # b's failure at 3 h could not be caught 2 h ahead
    assert (m.raised, m.true) == (1, 1)


def test_empty_metrics_are_nan():
    m = alarm_metrics({}, _failures([]), horizon_h=6)
    assert math.isnan(m.recall) and math.isnan(m.precision) and math.isnan(m.median_lead_h)


def test_roc_auc():
    assert roc_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert roc_auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert roc_auc(np.array([1.0, 1.0]), np.array([1.0])) == 0.5
    assert roc_auc(np.array([1.0, 3.0]), np.array([2.0])) == 0.5
    assert math.isnan(roc_auc(np.array([]), np.array([1.0])))


def test_replay_restarts_after_each_failure():
    ends = np.arange(10) * 600.0
    values = np.ones(10)
    units = np.array(["a"] * 10)
    assert replay_alarms(units, ends, values) == {"a": [0.0]}  # stays active throughout
    # a failure at 2,500 s: the alarm that announced it is closed, the next window raises again
    assert replay_alarms(units, ends, values, resets={"a": [2500.0]}) == {"a": [0.0, 3000.0]}


def test_rule_breaches_on_the_mean_of_the_last_steps():
    # motor: temperature warn_high 70, vibration warn_high 3.6, rpm warn_low 1332 / high 1628
    healthy = [55.0, 1.8, 1480.0]
    x3 = np.tile(np.array(healthy), (4, 6, 1))
    x3[1, -2:, 1] = 5.0  # mean of the last 3 vibration values (1.8, 5, 5) = 3.93 > 3.6
    x3[2, -1, 1] = 5.0  # (1.8, 1.8, 5) = 2.87: a single spike is not enough
    x3[3, -3:, 2] = 1300.0  # rpm below its low warning limit
    types = np.array(["motor"] * 4)
    limits = {
        "motor": {"temperature": (None, 70.0), "vibration": (None, 3.6), "rpm": (1332.0, 1628.0)}
    }
    got = rule_breaches(x3, types, ("temperature", "vibration", "rpm"), steps=3, limits=limits)
    assert got.tolist() == [False, True, False, True]
    # a type nobody gave limits for never breaches (and raises no KeyError)
    unknown = rule_breaches(
        x3, np.array(["default"] * 4), ("temperature", "vibration", "rpm"), steps=3, limits=limits
    )
    assert not unknown.any()


def _raises(values: list[float], step: float = 60.0) -> list[float]:
    times = np.arange(len(values)) * step
    return alarm_raises(times, np.array(values), threshold=0.8, clear_below=0.6, clear_after_s=180)


def test_alarm_raises_once_while_active():
    assert _raises([0.1, 0.9, 0.95, 0.7, 0.9, 0.85]) == [60.0]


def test_alarm_clears_only_after_staying_below_for_clear_after():
    # below 0.6 from 120 s: cleared once 180 s have passed (at 300 s); re-raised at 360 s
    assert _raises([0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9]) == [0.0, 360.0]
    # a dip shorter than clear_after does not clear: no second raise
    assert _raises([0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.9]) == [0.0]
    # values between clear_below and threshold keep the alarm active
    assert _raises([0.9] + [0.7] * 10 + [0.9]) == [0.0]


def test_alarm_needs_the_threshold():
    assert _raises([0.79, 0.5, 0.79]) == []
    assert _raises([0.8]) == [0.0]
    assert _raises([]) == []
