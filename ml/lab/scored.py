"""Scored windows: what a model said at every window end of a labelled history, stored as
Parquet by backtests, and the alarm metrics any threshold would have given on them.

``scores`` columns: ``model`` (e.g. ``"candidate"``, ``"active"``), ``anomaly_version``,
``failure_version``, ``unit``, ``type``, ``end`` (epoch seconds of the window's last step),
``prob`` (failure probability), ``anomaly`` (anomaly score), ``rul_h``, ``ttf_h`` (hours to
the next failure; inf when none follows in the data), ``faulty`` (a known fault was
developing). ``failures`` columns: ``unit``, ``failure``, ``repaired`` (epoch seconds).
``meta``: ``horizon_h``, ``data_start``, ``data_end`` (epoch seconds), ``source``, …
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import LabRun, LabRunStatus
from ml.alarm_policy import live_hysteresis
from ml.lab.replay import metrics_at, prepare_replay
from ml.registry import active_versions

__all__ = ["ScoredSet", "threshold_metrics", "tuning_set"]


@dataclass
class ScoredSet:
    scores: pd.DataFrame
    failures: pd.DataFrame
    meta: dict

    def save(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        self.scores.to_parquet(root / "scores.parquet", index=False)
        self.failures.to_parquet(root / "failures.parquet", index=False)
        (root / "meta.json").write_text(json.dumps(self.meta))
        return root

    @classmethod
    def load(cls, root: Path) -> ScoredSet:
        return cls(
            pd.read_parquet(root / "scores.parquet"),
            pd.read_parquet(root / "failures.parquet"),
            json.loads((root / "meta.json").read_text()),
        )

    def of(self, model: str) -> pd.DataFrame:
        return self.scores[self.scores["model"] == model]


def threshold_metrics(
    scores: pd.DataFrame,
    failures: pd.DataFrame,
    *,
    horizon_h: float,
    threshold: float,
    column: str = "prob",
    clear_below: float | None = None,
    clear_after_s: float = 1800.0,
    min_lead_h: float = 2.0,
    data_end: float | None = None,
    sustained: int | None = None,
) -> dict:
    """Alarm and window metrics of one model's scores at ``threshold`` (replayed through the
    live hysteresis): recall, precision, false alarms per machine-week, median lead time,
    and the window confusion matrix against the label "fails within the horizon".

    ``clear_below`` and ``sustained`` default to what the live alarm on ``column`` uses at
    that threshold (``ml.alarm_policy.live_hysteresis``). A sweep over many thresholds should
    prepare once: ``ml.lab.tune.sweep``."""
    live_clear, live_sustained = live_hysteresis(column, threshold)
    replay = prepare_replay(
        scores,
        failures,
        column=column,
        horizon_h=horizon_h,
        min_lead_h=min_lead_h,
        data_end=data_end,
    )
    return metrics_at(
        replay,
        threshold=threshold,
        clear_below=live_clear if clear_below is None else clear_below,
        clear_after_s=clear_after_s,
        sustained=live_sustained if sustained is None else sustained,
    )


def tuning_set(session: Session) -> tuple[ScoredSet, str, LabRun] | None:
    """The labelled history thresholds are tuned on: the scores of the active failure model
    from the latest backtest that replayed it (else the latest backtest's candidate), with
    the model's name in that set and the run; None before any backtest."""
    active = active_versions(session=session).get("failure")
    runs = session.scalars(
        select(LabRun)
        .where(LabRun.kind.in_(("backtest", "retrain")), LabRun.status == LabRunStatus.DONE)
        .order_by(LabRun.finished_at.desc(), LabRun.id.desc())
        .limit(20)
    ).all()
    fallback = None
    for run in runs:  # the run's record names its models: only the chosen set is read
        root = Path(run.output_dir) if run.output_dir else None
        if root is None or not (root / "scores.parquet").exists():
            continue
        for model, pair in (run.result or {}).get("versions", {}).items():
            if active is not None and pair.get("failure") == active:
                return ScoredSet.load(root), str(model), run
        fallback = fallback or (root, run)
    return None if fallback is None else (ScoredSet.load(fallback[0]), "candidate", fallback[1])
