"""python -m cli.evaluate: train on one history, score another the models never saw, and report
the models beside a random-forest baseline trained in the same run.

    python -m cli.evaluate                      # simulated fleets (train seed 1, test seed 99)
    python -m cli.evaluate --quick              # smaller simulated fleets
    python -m cli.evaluate --train-readings R.csv --train-failures F.csv \\
        --test-readings R2.csv --test-failures F2.csv [--test-rul RUL.csv] [--json]

Supplied data is in the long format of docs/ml.md; ``--test-rul`` (unit, rul_h) gives the
true remaining life of test units that are still running at their last reading.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cli.options import add_file_options, add_model_options, model_params, read_files
from cli.progress_bar import bar
from maintenance.ops.model_lab import simulated
from ml.alarm_policy import CLEAR_RATIO, FAILURE_THRESHOLD
from ml.dataset import RunToFailure
from ml.evaluate.baseline import ForestBaseline
from ml.evaluate.core import Replay, evaluate, load_trained
from ml.evaluate.report import table
from ml.pipeline import Trained, train
from ml.windows import Params, build_windows
from simulator.labelled import warning_limits

JSON_KEYS = (
    "rul_rmse_h",
    "rul_rmse_last2h_h",
    "rul_rmse_at_last_h",
    "recall",
    "precision",
    "median_lead_h",
    "false_alarms_per_unit_week",
    "anomaly_auc",
    "baseline_rul_rmse_h",
    "baseline_rul_rmse_last2h_h",
    "baseline_rul_rmse_at_last_h",
    "baseline_recall",
    "baseline_precision",
    "family",
    "horizon_h",
    "probability_source",
    "tree_columns",
    "alarm_threshold",
    "train_s",
    "peak_rss_mb",
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cli.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = p.add_argument_group("supplied data (long format, docs/ml.md)")
    for name in ("train-readings", "train-failures", "test-readings", "test-failures"):
        data.add_argument(f"--{name}", type=Path)
    data.add_argument("--test-rul", type=Path, help="unit,rul_h at each test unit's last reading")
    add_file_options(data)
    sim = p.add_argument_group("simulated fleets (when no files are given)")
    sim.add_argument("--quick", action="store_true", help="smaller fleets (under 2 minutes)")
    for name, default in (("train", 1), ("test", 99)):
        sim.add_argument(f"--{name}-machines", type=int)
        sim.add_argument(f"--{name}-days", type=float)
        sim.add_argument(f"--{name}-seed", type=int, default=default)
    model = p.add_argument_group("models")
    model.add_argument("--models", type=Path, help="evaluate saved models (anomaly/, failure/)")
    model.add_argument("--save", type=Path, help="save the trained models to this directory")
    add_model_options(model, stride_flag="--train-stride")
    model.add_argument("--seed", type=int, default=Params.seed)
    replay = p.add_argument_group("alarm replay")
    replay.add_argument("--stride", type=int, default=5, help="steps between scored windows")
    replay.add_argument(
        "--threshold",
        type=float,
        help="replay the model and the baseline at this threshold (default: the model's own, "
        "chosen in training; the baseline at 0.8)",
    )
    replay.add_argument("--clear-below", type=float, default=FAILURE_THRESHOLD * CLEAR_RATIO)
    replay.add_argument("--clear-after-s", type=float, default=1800.0)
    replay.add_argument("--min-lead-h", type=float, default=2.0)
    replay.add_argument("--rules-steps", type=int, default=20)
    p.add_argument("--json", action="store_true", help="end with one line of JSON")
    p.add_argument("--no-progress", action="store_true")
    return p


def _supplied(args: argparse.Namespace, p: argparse.ArgumentParser) -> bool:
    files = (args.train_readings, args.train_failures, args.test_readings, args.test_failures)
    if any(files) and not all(files):
        p.error("supplied data needs all four of --train-/--test-readings and -failures")
    return all(files)


def _datasets(args: argparse.Namespace, supplied: bool) -> tuple[RunToFailure, RunToFailure, dict]:
    if supplied:
        train_data = read_files(args.train_readings, args.train_failures, args)
        test_data = read_files(args.test_readings, args.test_failures, args)
        return (
            train_data,
            test_data,
            {"train": str(args.train_readings), "test": str(args.test_readings)},
        )
    sizes = (20, 7.0, 12, 7.0) if args.quick else (30, 14.0, 12, 10.0)
    tm = args.train_machines or sizes[0]
    td = args.train_days or sizes[1]
    sm = args.test_machines or sizes[2]
    sd = args.test_days or sizes[3]
    end = datetime(2025, 1, 1, tzinfo=UTC)  # fixed: the same seeds give the same numbers
    progress = not args.no_progress
    train_data = simulated(tm, td, args.train_seed, end=end, progress=progress)
    test_data = simulated(sm, sd, args.test_seed, end=end, progress=progress)
    setup = {
        "train": f"simulated, {tm} machines × {td:g} days, seed {args.train_seed}",
        "test": f"simulated, {sm} machines × {sd:g} days, seed {args.test_seed}",
    }
    return train_data, test_data, setup


def _fit(data: RunToFailure, params: Params, progress: bool) -> tuple[Trained, float]:
    started = time.perf_counter()
    trained = train(data, params, bar(enabled=progress, leave=False))
    return trained, time.perf_counter() - started


def main(argv: Iterable[str] | None = None) -> dict:
    p = _parser()
    args = p.parse_args(list(argv) if argv is not None else None)
    supplied = _supplied(args, p)
    progress = not args.no_progress
    train_data, test_data, setup = _datasets(args, supplied)
    if args.models:
        trained, train_s = load_trained(args.models), math.nan
        setup["train"] = f"loaded from {args.models}"
    else:
        trained, train_s = _fit(
            train_data,
            model_params(args, train_data, stride=args.train_stride, seed=args.seed),
            progress,
        )
        if args.save:
            trained.save(args.save)
    started = time.perf_counter()
    base = ForestBaseline.fit(
        build_windows(train_data, trained.params), trained.baseline, trained.params
    )
    baseline_s = time.perf_counter() - started
    test_rul = pd.read_csv(args.test_rul, dtype={"unit": str}) if args.test_rul else None
    result = evaluate(
        trained,
        test_data,
        stride=args.stride,
        replay=Replay(args.threshold, args.clear_below, args.clear_after_s, args.min_lead_h),
        rules_steps=args.rules_steps,
        limits=None if supplied else warning_limits(),
        baseline=base,
        test_rul=test_rul,
        progress=progress,
    )
    result |= {
        "family": trained.family,
        "horizon_h": trained.params.horizon_h,
        "probability_source": trained.params.probability_source,
        "tree_columns": trained.losses.get("tree_columns"),
        "horizon_choice": trained.losses.get("horizon_choice"),
        "family_choice": trained.losses.get("family_choice"),
        "train_s": train_s,
        "baseline_train_s": baseline_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    setup |= {
        "params": trained.params,
        "choice": trained.losses.get("family_choice"),
        "horizon": trained.losses.get("horizon_choice"),
    }
    print(table(result, setup), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({k: _round(result.get(k)) for k in JSON_KEYS}))
    return result


def _round(value: str | float | None) -> str | float | None:
    if isinstance(value, str) or value is None:
        return value
    value = float(value)
    return None if math.isnan(value) else round(value, 4)


if __name__ == "__main__":
    main()
