"""Does retraining on a drifted period restore alarm precision? The models of
``bench.drift`` (trained before the change) and models retrained on a drifted fleet's history,
both replayed through the live alarm logic (``ml.evaluate``) on a held-out fleet with the same
change from its start, and the old models on the held-out fleet without it.

    python -m bench.drift_retrain --cache /tmp/drift-models.joblib --scenario duty

Trains one pair of small models (tree family, as ``bench.drift``): a few minutes."""

from __future__ import annotations

import argparse
import time
import warnings

import joblib

from bench.drift import SCENARIOS, change
from maintenance.ops.model_lab import simulated
from ml.dataset import RunToFailure
from ml.evaluate.core import evaluate
from ml.pipeline import train
from ml.windows import Params


def drifted(data: RunToFailure, scenario: str) -> RunToFailure:
    """The whole history with the scenario's change from its first reading."""
    return RunToFailure(change(data.readings, scenario, data.readings["time"].min()), data.failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", required=True, help="bench.drift's models (joblib)")
    parser.add_argument("--scenario", choices=SCENARIOS, default="duty")
    parser.add_argument("--machines", type=int, default=15)
    parser.add_argument("--train-days", type=float, default=6)
    parser.add_argument("--days", type=float, default=4)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    old = joblib.load(args.cache)
    test = simulated(args.machines, args.days, 12)
    started = time.perf_counter()
    new = train(
        drifted(simulated(args.machines, args.train_days, 13), args.scenario),
        Params(family="tree", n_estimators=100),
    )
    took = time.perf_counter() - started
    rows = [
        ("models before the change, fleet without it", old, test),
        ("models before the change, drifted fleet", old, drifted(test, args.scenario)),
        ("retrained on a drifted history, drifted fleet", new, drifted(test, args.scenario)),
    ]
    print(f"scenario {args.scenario}; retraining took {took:.0f} s")
    print(
        "| models, held-out fleet | alarm precision (true of raised) "
        "| recall (caught of failures) |"
    )
    print("| --- | ---: | ---: |")
    for name, models, data in rows:
        r = evaluate(models, data, progress=False)
        print(
            f"| {name} | {r['precision']:.2f} ({r['true_raises']} of {r['raised']}) | "
            f"{r['recall']:.2f} ({r['caught']} of {r['failures']}) |"
        )


if __name__ == "__main__":
    main()
