"""How low any model's RUL error can go on the simulator: its faults start after exponential
gaps (``simulator/bulk_history.py``), which have no memory, so in a healthy window the time to
the next failure cannot be known from anything a model sees. An oracle that knows every
developing fault's exact remaining life, and in healthy windows says the best constant of
each machine type (fitted on the test windows themselves, so it is a lower bound), sets the
floor; the notebook forest of ``cli.evaluate`` (``ml.evaluate.baseline``) is trained on the
same training fleet beside it.

    python -m bench.rul_floor                  # the quick fleets of docs/ml.md, seeds 1 2 3
    python -m bench.rul_floor --seeds 5        # one pair of fleets (test seed = seed + 98)

It prints one row per seed: the share of healthy windows, the floor, the forest's error and
their ratio; a model can beat the forest by at most that ratio overall.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import numpy as np

from maintenance.ops.model_lab import simulated
from ml.evaluate.baseline import ForestBaseline
from ml.pipeline import baseline_from_windows
from ml.windows import Params, build_windows

__all__ = ["floor_rmse"]

END = datetime(2025, 1, 1, tzinfo=UTC)  # as cli.evaluate's simulated fleets


def floor_rmse(truth: np.ndarray, faulty: np.ndarray, types: np.ndarray) -> float:
    """RMSE of the oracle: exact where a fault is developing, the mean of each type's healthy
    windows elsewhere (``truth``: the capped remaining life of windows where it is known)."""
    guess = truth.astype(float).copy()
    for kind in np.unique(types):
        healthy = ~faulty & (types == kind)
        if healthy.any():
            guess[healthy] = truth[healthy].mean()
    return float(np.sqrt(np.mean((guess - truth) ** 2)))


def _row(seed: int, params: Params) -> dict:
    train, test = simulated(20, 7.0, seed, end=END), simulated(12, 7.0, seed + 98, end=END)
    wtr, wte = build_windows(train, params), build_windows(test, params, stride=5)
    healthy = (wtr.ttf_h > 2 * params.horizon_h) & ~wtr.faulty
    forest = ForestBaseline.fit(wtr, baseline_from_windows(wtr, healthy, train.sensors), params)
    known = wte.rul_known(params.rul_cap_h)
    truth = np.minimum(wte.ttf_h, params.rul_cap_h)[known]
    _prob, rul = forest.predict(wte.x3[known], wte.types[known])
    floor = floor_rmse(truth, wte.faulty[known], wte.types[known])
    forest_rmse = float(np.sqrt(np.mean((rul - truth) ** 2)))
    return {
        "seed": seed,
        "healthy": float((~wte.faulty[known]).mean()),
        "floor": floor,
        "forest": forest_rmse,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.rul_floor", description=__doc__)
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    args = p.parse_args(argv)
    params = Params()
    print("| seeds (train → test) | healthy | oracle floor | notebook forest | floor / forest |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for seed in args.seeds:
        r = _row(seed, params)
        print(
            f"| {seed} → {seed + 98} | {r['healthy']:.0%} | {r['floor']:.2f} h | "
            f"{r['forest']:.2f} h | {r['floor'] / r['forest']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
