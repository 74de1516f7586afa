"""Held-out evaluation, replaying the live alarm logic on data the models never saw.

Every window end (every ``stride`` steps) of every test unit is scored, and
``ml.alarm_policy.alarm_raises`` (the hysteresis of the live scoring job) turns each unit's failure
probability into alarm raises. As in training, windows that overlap a breakdown (failure to
repair plus an hour) are not scored, and a failure closes the alarm that announced it.

Metrics (hours are the data's own time):

- **recall**: share of failures with an alarm raised at least ``min_lead_h`` before the
  failure and after the previous repair of that unit (failures with no window end scored
  that early are not counted); **precision**: share of raises followed by a failure within
  the horizon H (raises in the last H hours of the data are left out: what follows is not
  known); **median lead**; **false alarms per unit-week** of scored time;
- **RUL RMSE / MAE** against the true remaining life capped at the model's ``rul_cap_h``
  (the literature's piecewise-linear target) on windows where that is known, and in the last
  2 h before a failure; with ``test_rul`` (units still running, their true RUL at their last
  reading) the RMSE at each unit's last reading;
- **anomaly AUC**: the IsolationForest's score on windows inside a known fault (onset ≤ t <
  failure) against healthy ones; data without onsets: windows within H of a failure against
  windows more than 2H from one;
- the same alarm metrics for the **threshold rules** when the sensors' limits are known,
  and everything for the **baseline** (``ml.evaluate.baseline``) when one is given.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ml.alarm_metrics import (
    Limits,
    failures_as_seconds,
    roc_auc,
    rule_breaches,
    window_alarm_metrics,
)
from ml.alarm_policy import CLEAR_RATIO, FAILURE_THRESHOLD
from ml.anomaly import AnomalyModel
from ml.dataset import RunToFailure
from ml.evaluate.baseline import ForestBaseline
from ml.features import Baseline, epoch_seconds, labels_at, unit_arrays, window_features, windows_at
from ml.inputs import Context, early_levels, load_failure_model
from ml.pipeline import Trained
from ml.windows import Params, Windows, build_windows

__all__ = ["Scored", "score_windows", "evaluate", "load_trained"]

_HOUR = 3600.0


@dataclass
class Scored:
    windows: Windows
    anomaly: np.ndarray
    prob: np.ndarray
    rul_h: np.ndarray
    rules: np.ndarray


def score_windows(
    trained: Trained,
    w: Windows,
    *,
    rules_steps: int,
    batch: int = 4096,
    progress: bool = True,
    limits: Limits | None = None,
) -> Scored:
    """Anomaly score, failure probability, RUL and rule breaches of every window."""
    from tqdm import tqdm  # lazy: live scoring never draws a bar

    n = len(w.ends)
    anomaly, prob, rul = np.zeros(n), np.zeros(n), np.zeros(n)
    chunks = range(0, n, batch)
    for start in tqdm(chunks, desc="scoring", unit="chunk", disable=not progress, leave=False):
        part = slice(start, start + batch)
        x3, types = w.x3[part], w.types[part]
        anomaly[part] = trained.anomaly.score(
            window_features(x3, types, trained.baseline), types
        ).score
        prob[part], rul[part] = trained.predict(x3, types, w.context(part))
    sensors = trained.baseline.sensors
    rules = rule_breaches(w.x3, w.types, sensors, steps=rules_steps, limits=limits or {})
    return Scored(w, anomaly, prob, rul, rules)


@dataclass(frozen=True)
class Replay:
    """How scores become alarms: the live hysteresis and what counts as caught.
    ``threshold``: None, the model's own (chosen in training, ``Params.alarm_threshold``;
    the baseline's is the product's 0.8); a number, both at it."""

    threshold: float | None = None
    clear_below: float = FAILURE_THRESHOLD * CLEAR_RATIO
    clear_after_s: float = 1800.0
    min_lead_h: float = 2.0


def evaluate(
    trained: Trained,
    test: RunToFailure,
    *,
    stride: int = 5,
    replay: Replay | None = None,
    rules_steps: int = 20,
    limits: Limits | None = None,
    baseline: ForestBaseline | None = None,
    test_rul: pd.DataFrame | None = None,
    progress: bool = True,
) -> dict:
    """Every metric of the module docstring, as a flat dict (baseline ones prefixed)."""
    replay = replay or Replay()
    params = trained.params
    threshold = _or(replay.threshold, params.alarm_threshold)
    own = replace(replay, threshold=threshold)
    fixed = replace(replay, threshold=_or(replay.threshold, FAILURE_THRESHOLD))
    w = build_windows(test, params, stride=stride)
    s = score_windows(trained, w, rules_steps=rules_steps, progress=progress, limits=limits)
    out = _alarms(w, s.prob, test, params, own) | _rul(w, s.rul_h, params)
    out["alarm_threshold"] = threshold
    out["anomaly_auc"] = _anomaly_auc(w, s.anomaly, params)
    out |= _onset_metrics(w, s.prob, test.failures, params, threshold)
    if limits:
        rules = _alarms(w, s.rules.astype(float), test, params, fixed)
        out |= {f"rules_{k}": v for k, v in rules.items()}
    if baseline is not None:
        b_prob, b_rul = baseline.predict(w.x3, w.types)
        b = _alarms(w, b_prob, test, params, fixed) | _rul(w, b_rul, params)
        out |= {f"baseline_{k}": v for k, v in b.items()}
    if test_rul is not None:
        out |= _at_last(trained, baseline, test, test_rul, params)
    out |= {"windows": int(len(w.ends)), "failures_in_data": int(len(test.failures))}
    return out


def _or(asked: float | None, default: float) -> float:
    return default if asked is None else asked


def _alarms(w: Windows, score: np.ndarray, test: RunToFailure, params: Params, r: Replay) -> dict:
    return window_alarm_metrics(
        w.units,
        w.ends,
        score,
        test.failures,
        horizon_h=params.horizon_h,
        threshold=_or(r.threshold, FAILURE_THRESHOLD),
        clear_below=r.clear_below,
        clear_after_s=r.clear_after_s,
        min_lead_h=r.min_lead_h,
    )


def _rmse(err: np.ndarray) -> float:
    return float(np.sqrt(np.mean(err**2))) if len(err) else math.nan


def _rul(w: Windows, rul: np.ndarray, params: Params) -> dict:
    known = w.rul_known(params.rul_cap_h)
    err = rul[known] - np.minimum(w.ttf_h[known], params.rul_cap_h)
    last2 = w.last_hours()
    err2 = rul[last2] - w.ttf_h[last2]
    return {
        "rul_rmse_h": _rmse(err),
        "rul_mae_h": float(np.mean(np.abs(err))) if len(err) else math.nan,
        "rul_rmse_last2h_h": _rmse(err2),
    }


def _anomaly_auc(w: Windows, anomaly: np.ndarray, params: Params) -> float:
    if w.faulty.any():
        healthy = w.fail_known(params.horizon_h) & ~w.faulty & (w.ttf_h > params.horizon_h)
        return roc_auc(anomaly[w.faulty], anomaly[healthy])
    near = w.ttf_h <= params.horizon_h
    far = w.fail_known(2 * params.horizon_h) & (w.ttf_h > 2 * params.horizon_h)
    return roc_auc(anomaly[near], anomaly[far])


def _onset_metrics(
    w: Windows, prob: np.ndarray, failures: pd.DataFrame, params: Params, threshold: float
) -> dict:
    """With known onsets: minutes from onset to the first alarming window, and the
    failure-label ROC-AUC beside its ceiling (an oracle that knows the fault state)."""
    if "onset" not in failures.columns or not w.faulty.any():
        return {}
    fails = failures_as_seconds(failures).assign(onset=epoch_seconds(failures["onset"]))
    since, delays = np.zeros(len(w.ends)), []
    for row in fails.itertuples():
        inside = (w.units == row.unit) & (w.ends >= row.onset) & (w.ends < row.failure)
        since[inside] = w.ends[inside] - row.onset
        hits = w.ends[inside & (prob >= threshold)]
        if len(hits):
            delays.append((hits.min() - row.onset) / 60)
    known = w.fail_known(params.horizon_h)
    label = w.ttf_h <= params.horizon_h
    return {
        "failure_auc": roc_auc(prob[known & label], prob[known & ~label]),
        "failure_auc_ceiling": roc_auc(since[known & label], since[known & ~label]),
        "median_detection_min": float(np.median(delays)) if delays else math.nan,
    }


def _at_last(
    trained: Trained,
    baseline: ForestBaseline | None,
    test: RunToFailure,
    test_rul: pd.DataFrame,
    params: Params,
) -> dict:
    """RMSE of the RUL at each still-running unit's last reading (truth capped)."""
    truth = dict(zip(test_rul["unit"].astype(str), test_rul["rul_h"].astype(float), strict=True))
    x3, types, ages, early, rul_true = [], [], [], [], []
    for unit, (times, values, kind) in unit_arrays(test).items():
        if unit not in truth or len(times) < params.window:
            continue
        mine = test.failures[test.failures["unit"] == unit]
        x3.append(windows_at(values, np.array([len(times) - 1]), params.window)[0])
        types.append(kind)
        ages.append(labels_at(times, mine)["age_h"][-1])
        repaired = epoch_seconds(mine["repaired"])
        early.append(early_levels(times, values, repaired, params.window)[-1])
        rul_true.append(min(truth[unit], params.rul_cap_h))
    if not x3:
        return {"rul_rmse_at_last_h": math.nan, "units_at_last": 0}
    x3a, typesa, truea = np.stack(x3), np.array(types), np.array(rul_true)
    _, rul = trained.predict(x3a, typesa, Context(np.array(ages), np.stack(early)))
    out = {"rul_rmse_at_last_h": _rmse(rul - truea), "units_at_last": len(truea)}
    if baseline is not None:
        _, b_rul = baseline.predict(x3a, typesa)
        out["baseline_rul_rmse_at_last_h"] = _rmse(b_rul - truea)
    return out


def load_trained(root: Path) -> Trained:
    """Models saved by ``Trained.save(root)``: ``root/anomaly`` and ``root/failure``."""
    meta = json.loads((root / "failure" / "baseline.json").read_text())
    return Trained(
        Params(**meta["params"]),
        Baseline.from_json(meta["baseline"]),
        AnomalyModel.load(root / "anomaly"),
        load_failure_model(root / "failure"),
        list(meta["type_names"]),
        {},
    )
