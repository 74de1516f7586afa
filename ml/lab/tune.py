"""Tuning the alarm thresholds on labelled history: everything the lab's tune section shows,
computed once per score so that moving the slider is a look-up.

- ``sweep``: the alarm-level metrics (``threshold_metrics``) at every threshold of a grid,
  0.05 … 0.95 by 0.01 (the slider's positions) plus any other value asked for;
- ``pr_curve``: the window-level precision-recall curve, label "fails within the horizon"
  among windows whose label is known (ending at least one horizon before the data ends);
- ``tuning_view``: both for the latest backtest's scores of the active model, with what the
  data is (``TuningView``); None before any backtest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from ml.alarm_policy import live_hysteresis
from ml.lab.replay import metrics_at, prepare_replay
from ml.lab.scored import tuning_set
from ml.registry import active_versions

__all__ = [
    "COLUMNS",
    "GRID",
    "PRCurve",
    "TuningView",
    "pr_curve",
    "sweep",
    "threshold_grid",
    "tuning_view",
]

COLUMNS = {"prob": "failure", "anomaly": "anomaly"}  # score column: the model that gives it
GRID = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))  # 0.05 … 0.95, the slider's steps
_HORIZON_H = 6.0  # when a backtest's meta does not say


def threshold_grid(extra: Iterable[float] = ()) -> list[float]:
    """The slider's positions and any ``extra`` thresholds (a setting between two steps)."""
    return sorted(set(GRID) | {round(float(t), 4) for t in extra if 0 < t <= 1})


def sweep(
    scores: pd.DataFrame,
    failures: pd.DataFrame,
    *,
    horizon_h: float,
    column: str = "prob",
    thresholds: Iterable[float] = GRID,
    clear_after_s: float = 1800.0,
    min_lead_h: float = 2.0,
    data_end: float | None = None,
) -> pd.DataFrame:
    """One row per threshold: the keys of ``threshold_metrics``, the confusion matrix
    flattened into ``tp``, ``fp``, ``fn``, ``tn``."""
    replay = prepare_replay(
        scores,
        failures,
        column=column,
        horizon_h=horizon_h,
        min_lead_h=min_lead_h,
        data_end=data_end,
    )
    rows = []
    for t in thresholds:
        clear_below, sustained = live_hysteresis(column, t)
        m = metrics_at(
            replay,
            threshold=t,
            clear_below=clear_below,
            clear_after_s=clear_after_s,
            sustained=sustained,
        )
        rows.append({k: v for k, v in m.items() if k != "confusion"} | m["confusion"])
    return pd.DataFrame(rows)


@dataclass
class PRCurve:
    """Window-level precision and recall as the threshold falls (plot-sized)."""

    precision: list[float]
    recall: list[float]
    thresholds: list[float]
    average_precision: float
    positives: int
    negatives: int


def pr_curve(
    scores: pd.DataFrame,
    *,
    horizon_h: float,
    column: str = "prob",
    data_end: float | None = None,
    max_points: int = 400,
) -> PRCurve:
    """Precision-recall of "score ≥ t" against "fails within the horizon" over the windows
    whose label is known; at most ``max_points`` points, the ends kept."""
    # lazy: the web process loads sklearn only when a page asks for a curve
    from sklearn.metrics import average_precision_score, precision_recall_curve

    ends = scores["end"].to_numpy(float)
    end = float(ends.max()) if data_end is None else float(data_end)
    known = (ends <= end - horizon_h * 3600.0) & scores[column].notna().to_numpy()
    label = scores["ttf_h"].to_numpy(float)[known] <= horizon_h
    values = scores[column].to_numpy(float)[known]
    if label.all() or not label.any():  # no curve without both classes
        return PRCurve([], [], [], math.nan, int(label.sum()), int((~label).sum()))
    precision, recall, thresholds = precision_recall_curve(label, values)
    keep = np.unique(np.linspace(0, len(thresholds) - 1, max_points).round().astype(int))
    return PRCurve(
        precision=precision[keep].round(4).tolist(),
        recall=recall[keep].round(4).tolist(),
        thresholds=thresholds[keep].round(4).tolist(),
        average_precision=float(average_precision_score(label, values)),
        positives=int(label.sum()),
        negatives=int((~label).sum()),
    )


@dataclass
class TuningView:
    """A backtest's labelled history seen through one score, ready for the tune section."""

    column: str
    model: str  # "active", "candidate"
    version: int | None
    run_id: int
    run_kind: str
    finished_at: datetime | None
    source: str
    machines: int
    days: float
    windows: int
    failures: int
    horizon_h: float
    min_lead_h: float
    sweep: pd.DataFrame
    pr: PRCurve
    meta: dict = field(default_factory=dict)


def tuning_view(
    *, session: Session, column: str, extra_thresholds: Iterable[float] = ()
) -> TuningView | None:
    """The sweep and PR curve of ``column`` on the history thresholds are tuned on; None
    before any backtest (or when that backtest has no such score)."""
    found = tuning_set(session)
    if found is None:
        return None
    scored, model, run = found
    rows = scored.of(model)
    if rows.empty:  # a set without that model: take the first one it has
        model = str(scored.scores["model"].iat[0]) if len(scored.scores) else model
        rows = scored.of(model)
    if rows.empty or column not in rows or rows[column].isna().all():
        return None
    meta = scored.meta
    horizon_h = _number(meta.get("horizon_h")) or _HORIZON_H
    data_end = _number(meta.get("data_end"))
    min_lead_h = _number(meta.get("min_lead_h")) or 2.0
    table = sweep(
        rows,
        scored.failures,
        thresholds=threshold_grid(extra_thresholds),
        clear_after_s=_number(meta.get("clear_after_s")) or 1800.0,
        min_lead_h=min_lead_h,
        horizon_h=horizon_h,
        column=column,
        data_end=data_end,
    )
    version = rows.get(f"{COLUMNS[column]}_version")
    units = rows["unit"].astype(str).unique()
    machines, days = len(units), _days(rows, meta)
    # the set names models as they stood when it was made; say what they are now
    current = active_versions(session=session).get(COLUMNS[column])
    version_now = None if version is None or version.isna().all() else int(version.iat[0])
    role = "active" if current is not None and version_now == current else "candidate"
    return TuningView(
        column=column,
        model=role,
        version=None if version is None or version.isna().all() else int(version.iat[0]),
        run_id=run.id,
        run_kind=run.kind,
        finished_at=run.finished_at,
        source=str(meta.get("source") or f"{machines} machines × {days:.3g} days"),
        machines=machines,
        days=days,
        windows=len(rows),
        failures=int(scored.failures["unit"].astype(str).isin(units).sum()),
        horizon_h=horizon_h,
        min_lead_h=min_lead_h,
        sweep=table,
        pr=pr_curve(rows, horizon_h=horizon_h, column=column, data_end=data_end),
        meta=meta,
    )


def _number(value: object) -> float | None:
    """A finite number from a backtest's meta, else None (older runs lack some keys)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _days(rows: pd.DataFrame, meta: dict) -> float:
    start, end = _number(meta.get("data_start")), _number(meta.get("data_end"))
    if start is not None and end is not None and end > start:
        return (end - start) / 86400.0
    return float(rows["end"].max() - rows["end"].min()) / 86400.0
