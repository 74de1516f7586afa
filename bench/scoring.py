"""Scoring benchmark: one tick of the fleet (window features, IsolationForest, LSTM) for many
machines in batched calls, against a naive loop that calls ``model.predict`` per machine.

    python -m bench.scoring            # 1,000 machines, naive loop over all of them,
                                       # and the training time of the default demo models
    python -m bench.scoring --quick    # under a minute; small training, naive loop over a
                                       # sample, ends with one line of JSON

The windows are real: the simulator runs ``--machines`` machines for W steps (faults
included). The batched tick is timed ``--repeat`` times after one warm-up tick (the first
call of a Keras model traces it); its median is reported. Peak RSS is the process's
``VmHWM`` with TensorFlow, both models and all windows loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime

import numpy as np

from ml.dataset import simulate_history
from ml.features import lstm_inputs, unit_arrays, window_features
from ml.pipeline import Params, Trained, train

DEMO_MACHINES, DEMO_DAYS = 20, 7.0  # the default demo training set


def peak_rss_mb() -> float:
    """Peak resident set of this process (``VmHWM``), in MiB."""
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fleet_windows(machines: int, window: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The last ``window`` steps of every machine of a simulated fleet: (x3, types)."""
    data = simulate_history(machines=machines, days=(window + 1) * 60 / 86_400, seed=seed)
    arrays = unit_arrays(data)
    x3 = np.stack([values[-window:] for _, values, _ in arrays.values()])
    types = np.array([kind for _, _, kind in arrays.values()])
    return x3, types


def tick(trained: Trained, x3: np.ndarray, types: np.ndarray) -> tuple[np.ndarray, ...]:
    """What the live scoring job does every tick, for all machines at once."""
    feats = window_features(x3, types, trained.baseline)
    anomaly = trained.anomaly.score(feats, types)
    prob, rul = trained.failure.predict(
        lstm_inputs(x3, types, trained.baseline, trained.type_names)
    )
    return anomaly.score, prob, rul


def naive(trained: Trained, x3: np.ndarray, types: np.ndarray, progress: bool) -> np.ndarray:
    """One machine at a time, with Keras' ``Model.predict`` (as a tutorial would)."""
    from tqdm import tqdm

    net = trained.failure.net
    probs = np.zeros(len(x3))
    for i in tqdm(range(len(x3)), desc="naive loop", unit="machine", disable=not progress):
        one, kind = x3[i : i + 1], types[i : i + 1]
        trained.anomaly.score(window_features(one, kind, trained.baseline), kind)
        x = lstm_inputs(one, kind, trained.baseline, trained.type_names)
        probs[i] = float(np.ravel(net.predict(x, verbose=0)[0])[0])
    return probs


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="under a minute; ends with JSON")
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5, help="timed batched ticks")
    parser.add_argument(
        "--naive-sample",
        type=int,
        help="machines in the naive loop (its time is scaled to all); default all, quick 100",
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    progress = not args.no_progress
    params = Params()

    from tqdm import tqdm

    train_m, train_d = (DEMO_MACHINES, DEMO_DAYS) if not args.quick else (6, 2.0)
    if args.quick:
        params = type(params)(**{**params.__dict__, "epochs": 2})
    data = simulate_history(
        machines=train_m, days=train_d, seed=7, end=datetime(2025, 1, 1, tzinfo=UTC)
    )
    bar = tqdm(total=100, desc="training", unit="%", disable=not progress, leave=False)

    def report(stage: str, fraction: float) -> None:
        bar.set_postfix_str(stage)
        bar.update(round(fraction * 100) - bar.n)

    started = time.perf_counter()
    trained = train(data, params, report)
    train_s = time.perf_counter() - started
    bar.close()

    x3, types = fleet_windows(args.machines, params.window)
    cold = time.perf_counter()
    tick(trained, x3, types)
    cold_s = time.perf_counter() - cold
    times = []
    for _ in tqdm(range(args.repeat), desc="batched ticks", disable=not progress, leave=False):
        t = time.perf_counter()
        _, prob, _ = tick(trained, x3, types)
        times.append(time.perf_counter() - t)
    tick_s = statistics.median(times)

    sample = args.naive_sample or (100 if args.quick else len(x3))
    sample = min(sample, len(x3))
    t = time.perf_counter()
    naive_prob = naive(trained, x3[:sample], types[:sample], progress)
    naive_s = (time.perf_counter() - t) * len(x3) / sample
    agree = float(np.max(np.abs(naive_prob - prob[:sample])))
    rss = peak_rss_mb()

    result = {
        "machines": len(x3),
        "tick_s": round(tick_s, 4),
        "naive_s": round(naive_s, 2),
        "ratio": round(naive_s / tick_s, 1),
        "rss_mb": round(rss, 1),
    }
    rows = [
        ("machines", f"{len(x3):,}"),
        ("window W (steps)", str(params.window)),
        ("batched tick, median of " + str(args.repeat), f"{tick_s:.3f} s"),
        ("batched tick, first (traces the model)", f"{cold_s:.3f} s"),
        (
            "naive loop, model.predict per machine",
            f"{naive_s:.2f} s" + (f" (scaled from {sample})" if sample < len(x3) else ""),
        ),
        ("ratio naive / batched", f"{naive_s / tick_s:.1f}×"),
        ("max |naive − batched| probability", f"{agree:.1e}"),
        ("peak RSS (TensorFlow loaded)", f"{rss:.0f} MiB"),
        (
            f"training time ({train_m} machines × {train_d:g} days, {params.epochs} epochs)",
            f"{train_s:.1f} s" + ("" if args.quick else " (default demo models)"),
        ),
        ("CPU cores", str(os.cpu_count())),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    if args.quick:
        print(json.dumps(result))
    result["train_s"] = round(train_s, 1)
    return result


if __name__ == "__main__":
    main()
