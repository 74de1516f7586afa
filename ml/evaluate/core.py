"""Held-out evaluation of the models, replaying the live alarm logic on a simulated fleet.

Models are trained on one simulated fleet (or loaded with ``--models``) and scored on another
fleet with a different seed, other machines and other fault timings. Every window end (every
``--stride`` steps) of every machine is scored, and ``ml.alarms.alarm_raises`` (the hysteresis
of the live scoring job) turns each machine's failure probability into alarm raises. As in
training, windows that overlap a breakdown (failure to repair plus an hour) are not scored,
and a failure closes the alarm that announced it: the replay restarts after each failure.

Metrics (all times are simulated physics time):

- **recall** (failures caught): share of failures with an alarm raised at least ``--min-lead-h``
  hours before the failure and after the previous repair of that unit; failures that could
  not be scored at all that early (not one window end in that interval) are not counted;
- **precision**: share of raised alarms followed by a real failure within the horizon H;
  raises in the last H hours of the data are left out (what follows them is not known);
- **median lead time** of the caught failures (failure minus the earliest qualifying raise);
- **IsolationForest ROC-AUC**: windows inside a fault (onset ≤ t < failure) against healthy ones;
- **RUL RMSE / MAE** (hours) on windows with time to failure ≤ ``rul_cap_h``;
- the same recall and precision for **threshold rules alone**: a window alarms when the mean
  of the last ``--rules-steps`` steps of any sensor breaks that sensor's warning limit.

``python -m ml.evaluate --quick`` ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ml.alarm_metrics import (
    alarm_metrics,
    failures_as_seconds,
    replay_alarms,
    roc_auc,
    rule_breaches,
)
from ml.dataset import RunToFailure, simulate_history
from ml.features import epoch_seconds, lstm_inputs, window_features
from ml.pipeline import Params, Trained, Windows, build_windows, train

__all__ = [
    "evaluate",
    "load_trained",
    "main",
]

_HOUR = 3600.0


# --------------------------------------------------------------------------- evaluation


@dataclass
class Scored:
    windows: Windows
    anomaly: np.ndarray
    prob: np.ndarray
    rul_h: np.ndarray
    rules: np.ndarray


def score_windows(
    trained: Trained, w: Windows, *, rules_steps: int, batch: int = 4096, progress: bool = True
) -> Scored:
    """Anomaly score, failure probability, RUL and rule breaches of every window."""
    from tqdm import tqdm

    sensors = trained.baseline.sensors
    n = len(w.ends)
    anomaly, prob, rul = np.zeros(n), np.zeros(n), np.zeros(n)
    chunks = range(0, n, batch)
    for start in tqdm(chunks, desc="scoring", unit="chunk", disable=not progress, leave=False):
        part = slice(start, start + batch)
        x3, types = w.x3[part], w.types[part]
        anomaly[part] = trained.anomaly.score(
            window_features(x3, types, trained.baseline), types
        ).score
        prob[part], rul[part] = trained.failure.predict(
            lstm_inputs(x3, types, trained.baseline, trained.type_names)
        )
    rules = rule_breaches(w.x3, w.types, sensors, steps=rules_steps)
    return Scored(w, anomaly, prob, rul, rules)


def evaluate(
    trained: Trained,
    test: RunToFailure,
    *,
    stride: int = 5,
    threshold: float = 0.8,
    clear_below: float = 0.6,
    clear_after_s: float = 1800.0,
    min_lead_h: float = 2.0,
    rules_steps: int = 20,
    progress: bool = True,
) -> dict:
    """Every metric of the module docstring, as a flat dict."""
    params = trained.params
    w = build_windows(test, params, stride=stride)
    s = score_windows(trained, w, rules_steps=rules_steps, progress=progress)
    data_end = float(w.ends.max())
    known = w.ends <= data_end - params.horizon_h * _HOUR  # labels of later windows are censored
    scored = {str(u): w.ends[w.units == u] for u in np.unique(w.units)}
    hysteresis = {
        "threshold": threshold,
        "clear_below": clear_below,
        "clear_after_s": clear_after_s,
    }
    common = {
        "horizon_h": params.horizon_h,
        "min_lead_h": min_lead_h,
        "scored": scored,
        "censor_after": data_end - params.horizon_h * _HOUR,
    }
    fails = failures_as_seconds(test.failures)
    resets = {str(u): part["failure"].to_numpy(float) for u, part in fails.groupby("unit")}
    ml_raises = replay_alarms(w.units, w.ends, s.prob, resets=resets, **hysteresis)
    rule_raises = replay_alarms(w.units, w.ends, s.rules.astype(float), resets=resets, **hysteresis)
    ml = alarm_metrics(ml_raises, test.failures, **common)
    ml_h = alarm_metrics(ml_raises, test.failures, max_lead_h=params.horizon_h, **common)
    rules = alarm_metrics(rule_raises, test.failures, **common)

    since_onset, delays = _fault_ages(w, test.failures, s.prob >= threshold)
    healthy = known & ~w.faulty
    faulty = w.faulty  # in a fault: a failure follows (within the data) by construction
    label = w.ttf_h <= params.horizon_h
    in_cap = w.ttf_h <= params.rul_cap_h
    err = s.rul_h[in_cap] - np.minimum(w.ttf_h[in_cap], params.rul_cap_h)
    err_fault = s.rul_h[faulty] - w.ttf_h[faulty]
    return {
        "recall": ml.recall,
        "precision": ml.precision,
        "median_lead_h": ml.median_lead_h,
        "if_auc": roc_auc(s.anomaly[faulty], s.anomaly[healthy]),
        "rul_rmse": float(np.sqrt(np.mean(err**2))) if len(err) else math.nan,
        "rul_mae": float(np.mean(np.abs(err))) if len(err) else math.nan,
        "rules_recall": rules.recall,
        "rules_precision": rules.precision,
        "rules_median_lead_h": rules.median_lead_h,
        "recall_within_h": ml_h.recall,
        "median_lead_within_h_h": ml_h.median_lead_h,
        "failures": ml.failures,
        "failures_in_data": len(test.failures),
        "caught": ml.caught,
        "raised": ml.raised,
        "true_raises": ml.true,
        "rules_caught": rules.caught,
        "rules_raised": rules.raised,
        "rules_true_raises": rules.true,
        "lstm_auc": roc_auc(s.prob[known & label], s.prob[known & ~label]),
        # the best any model can do: knowing whether (and since when) a fault is developing;
        # windows before the onset but within H of the failure are positives nobody can see
        "lstm_auc_ceiling": roc_auc(since_onset[known & label], since_onset[known & ~label]),
        "median_detection_min": float(np.median(delays)) if len(delays) else math.nan,
        "rul_rmse_in_fault": float(np.sqrt(np.mean(err_fault**2))) if len(err_fault) else math.nan,
        "rul_mae_in_fault": float(np.mean(np.abs(err_fault))) if len(err_fault) else math.nan,
        "windows": int(len(w.ends)),
        "faulty_windows": int(faulty.sum()),
        "healthy_windows": int(healthy.sum()),
    }


def _fault_ages(
    w: Windows, failures: pd.DataFrame, alarming: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per window, seconds since the onset of the fault in progress (0: none), and per fault
    the minutes from onset to the first window at or above the threshold."""
    since = np.zeros(len(w.ends))
    delays = []
    if "onset" not in failures.columns:
        return since, np.zeros(0)
    fails = failures_as_seconds(failures).assign(onset=epoch_seconds(failures["onset"]))
    for row in fails.itertuples():
        inside = (w.units == row.unit) & (w.ends >= row.onset) & (w.ends < row.failure)
        since[inside] = w.ends[inside] - row.onset
        hits = w.ends[inside & alarming]
        if len(hits):
            delays.append((hits.min() - row.onset) / 60)
    return since, np.asarray(delays)


# --------------------------------------------------------------------------- CLI


def load_trained(root: Path) -> Trained:
    """Models saved by ``Trained.save(root)``: ``root/anomaly`` and ``root/failure``."""
    from ml.anomaly import AnomalyModel
    from ml.failure import FailureModel
    from ml.features import Baseline

    meta = json.loads((root / "failure" / "baseline.json").read_text())
    return Trained(
        Params(**meta["params"]),
        Baseline.from_json(meta["baseline"]),
        AnomalyModel.load(root / "anomaly"),
        FailureModel.load(root / "failure"),
        list(meta["type_names"]),
        {},
    )


def _train(data: RunToFailure, params: Params, progress: bool) -> tuple[Trained, float]:
    from tqdm import tqdm

    bar = tqdm(total=100, desc="training", unit="%", disable=not progress, leave=False)

    def report(stage: str, fraction: float) -> None:
        bar.set_postfix_str(stage)
        bar.update(round(fraction * 100) - bar.n)

    started = time.perf_counter()
    trained = train(data, params, report)
    bar.close()
    return trained, time.perf_counter() - started


def _fmt(value: float, pattern: str) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (pattern.format(value))
    )


def _table(r: dict, setup: dict) -> str:
    rows = [
        ("training fleet", setup["train"]),
        ("test fleet", setup["test"]),
        ("training time", _fmt(setup.get("train_s"), "{:.1f} s")),
        ("failures (scorable / in data)", f"{r['failures']} / {r['failures_in_data']}"),
        ("", ""),
        (
            "failure alarms: recall (≥ 90 %)",
            _fmt(r["recall"], "{:.1%}")
            + f"  ({r['caught']}/{r['failures']})"
            + _ok(r["recall"] >= 0.9),
        ),
        (
            "  the same, raise also within H of failure",
            _fmt(r["recall_within_h"], "{:.1%}")
            + ", median lead "
            + _fmt(r["median_lead_within_h_h"], "{:.2f} h"),
        ),
        (
            "failure alarms: precision (≥ 80 %)",
            _fmt(r["precision"], "{:.1%}")
            + f"  ({r['true_raises']}/{r['raised']})"
            + _ok(r["precision"] >= 0.8),
        ),
        ("failure alarms: median lead", _fmt(r["median_lead_h"], "{:.2f} h")),
        (
            "rules alone: recall",
            _fmt(r["rules_recall"], "{:.1%}") + f"  ({r['rules_caught']}/{r['failures']})",
        ),
        (
            "rules alone: precision",
            _fmt(r["rules_precision"], "{:.1%}")
            + f"  ({r['rules_true_raises']}/{r['rules_raised']})",
        ),
        ("rules alone: median lead", _fmt(r["rules_median_lead_h"], "{:.2f} h")),
        ("IsolationForest ROC-AUC (≥ 0.9)", _fmt(r["if_auc"], "{:.3f}") + _ok(r["if_auc"] >= 0.9)),
        (
            "LSTM failure-label ROC-AUC",
            _fmt(r["lstm_auc"], "{:.3f}")
            + "  (ceiling, fault-state oracle: "
            + _fmt(r["lstm_auc_ceiling"], "{:.3f}")
            + ")",
        ),
        (
            "median fault onset → probability ≥ threshold",
            _fmt(r["median_detection_min"], "{:.0f} min"),
        ),
        (
            "RUL RMSE / MAE, ttf ≤ cap",
            _fmt(r["rul_rmse"], "{:.2f} h") + " / " + _fmt(r["rul_mae"], "{:.2f} h"),
        ),
        (
            "RUL RMSE / MAE, inside a fault",
            _fmt(r["rul_rmse_in_fault"], "{:.2f} h")
            + " / "
            + _fmt(r["rul_mae_in_fault"], "{:.2f} h"),
        ),
        (
            "windows scored (faulty / healthy)",
            f"{r['windows']} ({r['faulty_windows']} / {r['healthy_windows']})",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" if k else "" for k, v in rows)


def _ok(passed: bool) -> str:
    return "  PASS" if passed else "  FAIL"


def main(argv: Iterable[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m ml.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="smaller fleets (under 2 minutes)")
    parser.add_argument("--models", type=Path, help="evaluate saved models (anomaly/, failure/)")
    parser.add_argument("--save", type=Path, help="save the trained models to this directory")
    parser.add_argument("--train-machines", type=int)
    parser.add_argument("--train-days", type=float)
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--test-machines", type=int)
    parser.add_argument("--test-days", type=float)
    parser.add_argument("--test-seed", type=int, default=99)
    parser.add_argument("--epochs", type=int, help="override Params.epochs")
    parser.add_argument("--train-stride", type=int, help="override Params.stride")
    parser.add_argument("--stride", type=int, default=5, help="steps between scored windows")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--clear-below", type=float, default=0.6)
    parser.add_argument("--clear-after-s", type=float, default=1800.0)
    parser.add_argument("--min-lead-h", type=float, default=2.0)
    parser.add_argument(
        "--rules-steps",
        type=int,
        default=20,
        help="steps averaged by the rules (live: 20 s at 1 Hz and 60x speed = 20 steps)",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)

    train_m, train_d, test_m, test_d = (
        (30, 14.0, 12, 10.0) if not args.quick else (20, 7.0, 12, 7.0)
    )
    train_m = args.train_machines or train_m
    train_d = args.train_days or train_d
    test_m = args.test_machines or test_m
    test_d = args.test_days or test_d
    progress = not args.no_progress
    end = datetime(2025, 1, 1, tzinfo=UTC)  # fixed: the same seed gives the same numbers

    setup: dict = {"test": f"{test_m} machines × {test_d:g} days, seed {args.test_seed}"}
    if args.models:
        trained = load_trained(args.models)
        setup["train"] = f"loaded from {args.models}"
    else:
        params = Params()
        if args.epochs:
            params = replace(params, epochs=args.epochs)
        if args.train_stride:
            params = replace(params, stride=args.train_stride)
        data = simulate_history(
            machines=train_m, days=train_d, seed=args.train_seed, end=end, progress=progress
        )
        trained, setup["train_s"] = _train(data, params, progress)
        setup["train"] = (
            f"{train_m} machines × {train_d:g} days, seed {args.train_seed}, "
            f"{len(data.failures)} failures, {params.epochs} epochs, stride {params.stride}"
        )
        if args.save:
            trained.save(args.save)
    test = simulate_history(
        machines=test_m, days=test_d, seed=args.test_seed, end=end, progress=progress
    )
    result = evaluate(
        trained,
        test,
        stride=args.stride,
        threshold=args.threshold,
        clear_below=args.clear_below,
        clear_after_s=args.clear_after_s,
        min_lead_h=args.min_lead_h,
        rules_steps=args.rules_steps,
        progress=progress,
    )
    result["train_s"] = setup.get("train_s")
    print(_table(result, setup))
    if args.quick:
        keys = ("recall", "precision", "median_lead_h", "if_auc", "rul_rmse")
        line = {k: _round(result[k]) for k in keys}
        line |= {
            "rules_recall": _round(result["rules_recall"]),
            "rules_precision": _round(result["rules_precision"]),
        }
        print(json.dumps(line))
    return result


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


if __name__ == "__main__":
    main()
