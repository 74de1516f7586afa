"""A labelled history as a backtest stores it (``ml.lab.scored.ScoredSet``), made up quickly:
failures about every two days per machine, a failure probability and an anomaly score
that climb during the last hours before each failure, noise and a few false spikes; and
the run that keeps it on record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from data.db import Database
from data.models import LabRun, LabRunStatus
from ml.lab.scored import ScoredSet

STEP_S = 300.0  # window ends every 5 steps of 60 s, as backtests score them
H = 3600.0


def synthetic_scored(
    *,
    machines: int = 12,
    days: float = 10.0,
    seed: int = 5,
    start: float = 1.7e9,
    horizon_h: float = 6.0,
    failure_version: int = 3,
    anomaly_version: int = 2,
    model: str = "active",
) -> ScoredSet:
    """One model's scores of ``machines`` × ``days``, with the failures behind."""
    rng = np.random.default_rng(seed)
    end = start + days * 86400
    frames, fails = [], []
    for m in range(machines):
        unit = f"unit-{m + 1:02d}"
        failures = _failure_times(rng, start, end)
        repaired = failures + rng.uniform(1, 3, len(failures)) * H
        fails += [(unit, f, r) for f, r in zip(failures, repaired, strict=True)]
        frames.append(_unit_scores(rng, unit, start, end, failures, repaired))
    scores = pd.concat(frames, ignore_index=True)
    scores["model"] = model
    scores["failure_version"] = failure_version
    scores["anomaly_version"] = anomaly_version
    meta = {
        "horizon_h": horizon_h,
        "data_start": start,
        "data_end": float(scores["end"].max()),
        "source": f"simulated: {machines} machines × {days:g} days, seed {seed}",
        "machines": machines,
        "days": days,
    }
    failures_frame = pd.DataFrame(fails, columns=["unit", "failure", "repaired"])
    return ScoredSet(scores, failures_frame, meta)


def _failure_times(rng: np.random.Generator, start: float, end: float) -> np.ndarray:
    times, t = [], start + rng.uniform(12, 60) * H
    while t < end:
        times.append(t)
        t += max(12.0, rng.exponential(48.0)) * H
    return np.asarray(times, float)


def _unit_scores(
    rng: np.random.Generator,
    unit: str,
    start: float,
    end: float,
    failures: np.ndarray,
    repaired: np.ndarray,
) -> pd.DataFrame:
    ends = np.arange(start + 3600, end, STEP_S)
    down = np.zeros(len(ends), bool)
    for f, r in zip(failures, repaired, strict=True):
        down |= (ends > f) & (ends < r + H)  # windows overlapping a breakdown are not scored
    ends = ends[~down]
    nxt = np.searchsorted(failures, ends, side="left")
    ttf_h = (np.append(failures, np.inf)[nxt] - ends) / H
    onset_h = np.append(rng.uniform(3.0, 8.0, len(failures)), 1.0)[nxt]  # per fault
    progress = np.clip((onset_h - ttf_h) / onset_h, 0, 1)  # 0 healthy … 1 at the failure
    spikes = (rng.random(len(ends)) < 0.001) * rng.uniform(0.3, 0.8, len(ends))
    noise = rng.normal(0, 0.04, len(ends))
    prob = np.clip(0.04 + 0.94 * np.clip(1.6 * progress, 0, 1) + noise + spikes, 0, 1)
    anomaly = np.clip(0.25 + 0.75 * progress**0.5 + rng.normal(0, 0.07, len(ends)), 0, 1)
    return pd.DataFrame(
        {
            "unit": unit,
            "type": "motor",
            "end": ends,
            "prob": prob,
            "anomaly": anomaly,
            "rul_h": np.minimum(ttf_h, 48.0),
            "ttf_h": ttf_h,
            "faulty": progress > 0,
        }
    )


def record_scored_run(db: Database, scored: ScoredSet, root: Path, *, failure_version: int) -> int:
    """Keep ``scored`` on record as a finished backtest (what ``ml.lab.runs`` leaves behind
    without training anything): its Parquet files under ``root`` and a done ``LabRun``."""
    scored.save(root)
    now = datetime.now(UTC)
    with db.session() as s:
        run = LabRun(
            kind="backtest",
            status=LabRunStatus.DONE,
            params={"source": "simulator"},
            progress=1.0,
            stage="done",
            failure_version=failure_version,
            anomaly_version=int(scored.scores["anomaly_version"].iat[0]),
            # as ml.lab.runs records a backtest: which pair each model in the set is
            result={
                "versions": {
                    str(model): {
                        "anomaly": int(part["anomaly_version"].iat[0]),
                        "failure": int(part["failure_version"].iat[0]),
                    }
                    for model, part in scored.scores.groupby("model")
                }
            },
            output_dir=str(root),
            started_at=now,
            finished_at=now,
        )
        s.add(run)
        s.flush()
        return run.id
