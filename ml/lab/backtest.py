"""Backtests and the promotion guard: a model pair and the active pair score the same held-out
history and replay the live alarm logic (``backtest_pair``); a pair becomes active only with a
finished backtest of exactly that pair on record (``promote_pair``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import LabRun, LabRunStatus
from ml import registry
from ml.anomaly import AnomalyModel
from ml.dataset import RunToFailure
from ml.evaluate import load_trained, score_windows
from ml.features import epoch_seconds
from ml.lab.params import LabError
from ml.lab.scored import ScoredSet, threshold_metrics
from ml.pipeline import Trained
from ml.registry import promote
from ml.windows import build_windows

__all__ = [
    "load_pair",
    "backtest_pair",
    "beats",
    "has_backtest",
    "promote_pair",
]


def load_pair(session: Session, pair: dict) -> Trained:
    failure = registry.version(session, "failure", pair["failure"])
    anomaly = registry.version(session, "anomaly", pair["anomaly"])
    if failure is None or anomaly is None:
        raise LabError("the models of this run are no longer in the registry")
    trained = load_trained(Path(failure.artefact).parent)
    if Path(anomaly.artefact).parent != Path(failure.artefact).parent:
        trained.anomaly = AnomalyModel.load(Path(anomaly.artefact))
    return trained


def backtest_pair(
    models: dict[str, Trained],
    versions: dict[str, dict],
    data: RunToFailure,
    *,
    threshold: float | Mapping[str, float] = 0.8,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[dict, ScoredSet]:
    """Score every window of ``data`` with each named model pair and replay the alarms:
    ({name: metrics}, the scores). Windows follow the first model's window and horizon;
    ``threshold``: one for every pair, or each pair's own (the one in force were it active)."""
    thresholds = {
        name: float(threshold[name] if isinstance(threshold, Mapping) else threshold)
        for name in models
    }
    first = next(iter(models.values()))
    frames, metrics = [], {}
    w = build_windows(data, first.params, stride=5)
    for i, (name, trained) in enumerate(models.items()):
        if progress:
            progress(f"scoring {name}", 0.1 + 0.8 * i / len(models))
        if tuple(trained.baseline.sensors) != tuple(data.sensors):
            view = replace(data, sensors=tuple(trained.baseline.sensors))
            wm = build_windows(view, replace(trained.params, window=first.params.window), stride=5)
        else:
            wm = w
        s = score_windows(trained, wm, rules_steps=20, progress=False)
        frames.append(
            pd.DataFrame(
                {
                    "model": name,
                    "anomaly_version": versions[name]["anomaly"],
                    "failure_version": versions[name]["failure"],
                    "unit": wm.units.astype(str),
                    "type": wm.types.astype(str),
                    "end": wm.ends,
                    "prob": s.prob,
                    "anomaly": s.anomaly,
                    "rul_h": s.rul_h,
                    "ttf_h": wm.ttf_h,
                    "faulty": wm.faulty,
                }
            )
        )
    failures = data.failures.assign(
        unit=data.failures["unit"].astype(str),
        failure=_seconds(data.failures["failure"]),
        repaired=_seconds(data.failures["repaired"]),
    )[["unit", "failure", "repaired"]]
    scores = pd.concat(frames, ignore_index=True)
    horizon = first.params.horizon_h
    data_end = float(scores["end"].max())
    for name, part in scores.groupby("model", sort=False):
        metrics[str(name)] = threshold_metrics(
            part, failures, horizon_h=horizon, threshold=thresholds[str(name)], data_end=data_end
        )
    start, end = data.span()
    meta = {
        "horizon_h": horizon,
        "data_start": start.timestamp(),
        "data_end": data_end,
        "units": int(data.readings["unit"].nunique()),
        "failures": int(len(failures)),
        "threshold": thresholds[next(iter(models))],
        "thresholds": thresholds,
        "versions": versions,
    }
    return metrics, ScoredSet(scores, failures, meta)


def _seconds(times: pd.Series) -> np.ndarray:
    return epoch_seconds(pd.to_datetime(times, utc=True))


def beats(candidate: dict, active: dict | None) -> bool:
    """The candidate is better: catches at least as many failures (recall) and raises no more
    false alarms per machine-week, and is strictly better in one of the two."""
    if active is None:
        return True

    def value(m: dict, key: str, missing: float) -> float:
        v = m.get(key)
        return missing if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    rc, ra = value(candidate, "recall", 0.0), value(active, "recall", 0.0)
    fc = value(candidate, "false_alarms_per_machine_week", math.inf)
    fa = value(active, "false_alarms_per_machine_week", math.inf)
    return rc >= ra and fc <= fa and (rc > ra or fc < fa)


def has_backtest(session: Session, pair: dict) -> LabRun | None:
    return session.scalar(
        select(LabRun)
        .where(
            LabRun.kind.in_(("backtest", "retrain")),
            LabRun.status == LabRunStatus.DONE,
            LabRun.anomaly_version == pair["anomaly"],
            LabRun.failure_version == pair["failure"],
            LabRun.output_dir != "",
        )
        .order_by(LabRun.finished_at.desc())
        .limit(1)
    )


def promote_pair(*, session: Session, pair: dict, user_id: int | None) -> LabRun:
    """Activate a candidate pair: refused unless a backtest of exactly this pair is on record."""
    run = has_backtest(session, pair)
    if run is None:
        raise LabError(
            f"No backtest of anomaly v{pair['anomaly']} + failure v{pair['failure']} is on "
            "record: backtest it first.",
            "candidate",
        )
    for kind in ("anomaly", "failure"):
        promote(session=session, kind=kind, version=int(pair[kind]), user_id=user_id)
    return run
