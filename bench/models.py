"""Model quality on held-out data beside the same-run random-forest baseline, over seeds:
the numbers of docs/ml.md ("Quality on data the models never saw").

    python -m bench.models                          # simulator and pump, seeds 1 2 3
    python -m bench.models --sets valve battery      # seen before, never tuned on
    python -m bench.models --sets cell              # PyBaMM's cells: the never-tuned-on source
    python -m bench.models --sets pump --seeds 1 --families tree lstm

For each data set and seed, a training history and a test history are made with different
seeds (other units, other lives), written as long-format CSV under ``--data`` (kept, so a
rerun only evaluates), and ``python -m cli.evaluate ... --json`` runs on them in a fresh
process (its peak memory is its own). The pump, valve and battery sets come from NASA's progpy
physics (``bench/datasets/progpy_sets.py``), the cell set from PyBaMM's ageing models
(``bench/datasets/pybamm_sets.py``); the simulator's from ``simulator/``. It prints
one row per run, then per set and family the mean and the spread (min–max) over seeds, and
the ratio of the model's RUL error to the baseline's (target ≤ 0.9).
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

# set -> (train units, test units, evaluate options)
SETS = {
    "simulator": (30, 12, []),
    "pump": (40, 30, []),
    "valve": (40, 30, []),
    "battery": (40, 30, []),
    "cell": (40, 30, []),
}
GENERATORS = {"cell": "bench.datasets.pybamm_sets"}  # the rest: bench.datasets.progpy_sets
SIM_DAYS = (14.0, 10.0)
COLUMNS = (
    "rul_rmse_h",
    "baseline_rul_rmse_h",
    "rul_rmse_last2h_h",
    "baseline_rul_rmse_last2h_h",
    "recall",
    "precision",
    "baseline_recall",
    "baseline_precision",
    "false_alarms_per_unit_week",
    "anomaly_auc",
    "train_s",
    "peak_rss_mb",
)


def _files(name: str, seed: int, root: Path) -> list[str]:
    """The evaluate options naming the set's train and test CSVs (made when missing)."""
    from bench.datasets.progpy_sets import write

    # imported here: each generator pulls in its physics library (progpy, PyBaMM) when used
    module = importlib.import_module(GENERATORS.get(name, "bench.datasets.progpy_sets"))
    train_units, test_units, extra = SETS[name]
    args = []
    for role, units, offset in (("train", train_units, 1), ("test", test_units, 2)):
        folder = root / f"{name}-{seed}-{role}"
        if not (folder / "readings.csv").exists():
            data = module.generate(name, units=units, seed=100 * seed + offset, progress=True)
            write(data, folder)
        args += [f"--{role}-readings", str(folder / "readings.csv")]
        args += [f"--{role}-failures", str(folder / "failures.csv")]
    return args + extra


def _run(name: str, seed: int, family: str, root: Path) -> dict:
    if name == "simulator":
        tm, sm = SETS[name][:2]
        data = [f"--train-machines={tm}", f"--train-days={SIM_DAYS[0]}"]
        data += [f"--test-machines={sm}", f"--test-days={SIM_DAYS[1]}"]
        data += [f"--train-seed={seed}", f"--test-seed={seed + 98}"]
    else:
        data = _files(name, seed, root)
    argv = [sys.executable, "-m", "cli.evaluate", *data, "--family", family, "--seed", str(seed)]
    out = subprocess.run(
        [*argv, "--json", "--no-progress"], capture_output=True, text=True, check=True
    )
    return {"set": name, "seed": seed, "asked": family} | json.loads(out.stdout.splitlines()[-1])


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per set and family asked: mean and min–max of each column over seeds."""
    out = []
    for (name, asked), part in rows.groupby(["set", "asked"], sort=False):
        row = {"set": name, "family": asked, "chosen": "/".join(part["family"])}
        for c in COLUMNS:
            v = part[c].astype(float)
            row[c] = f"{v.mean():.2f} ({v.min():.2f}–{v.max():.2f})"
        ratio = part["rul_rmse_h"] / part["baseline_rul_rmse_h"]
        ratio2 = part["rul_rmse_last2h_h"] / part["baseline_rul_rmse_last2h_h"]
        row["rul_ratio"] = f"{ratio.mean():.2f}"
        row["rul_last2h_ratio"] = f"{ratio2.mean():.2f}"
        out.append(row)
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(prog="python -m bench.models", description=__doc__)
    p.add_argument("--sets", nargs="+", choices=tuple(SETS), default=["simulator", "pump"])
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--families", nargs="+", default=["auto"])
    p.add_argument("--data", type=Path, default=Path("var/bench-data"))
    args = p.parse_args(argv)
    rows = []
    for name in args.sets:
        for family in args.families:
            for seed in args.seeds:
                row = _run(name, seed, family, args.data)
                print(json.dumps(row), flush=True)
                rows.append(row)
    table = summary(pd.DataFrame(rows))
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    return table


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
