"""The data the models see, for the lab's explore view: pick machines, sensor kinds, a time
range and a step; get the bucketed series, windows with their engineered features and labels,
feature distributions healthy vs pre-failure, a PCA projection of the windows, and what the
models said over time next to alarms and confirmed failures.

Every part is bounded, whatever the range: the step is raised until the series fit in
``MAX_STEPS`` buckets per machine and ``MAX_CELLS`` (machine, sensor, bucket) values, and
windows are taken every k-th step so there are at most ``MAX_WINDOWS``.

Time: readings are kept in wall-clock time, the models think in physics time. The embedded
demo's simulator runs physics 60x faster than the clock (``Settings.live_step_s``), so one
model step is ``model_step_s`` wall seconds and the horizon H (model hours) is H /
``time_scale`` hours of recorded time. Windows are as long as the model's (W steps) when the
step is the model's; at coarser steps they keep at least ``MIN_WINDOW`` steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from ml.features import Baseline, feature_names
from ml.lab.explore_data import (
    alarm_rows,
    bucket_series,
    machine_ids,
    model_baseline,
    score_series,
    sensor_order,
    sensor_refs,
)
from ml.lab.explore_windows import (
    Plan,
    choose_baseline,
    cut_windows,
    known_failures,
    with_features,
)
from ml.windows import Params

__all__ = [
    "Selection",
    "Plan",
    "Exploration",
    "plan",
    "explore",
    "series",
    "grid_for",
    "scores",
    "score_step",
    "MAX_STEPS",
    "MAX_CELLS",
    "MAX_WINDOWS",
    "MIN_WINDOW",
    "MAX_SCORE_POINTS",
]

MAX_STEPS = 1500  # buckets per machine and sensor: points per trace
MAX_CELLS = 30_000  # (machine, sensor, bucket) values read and drawn in one go
MAX_WINDOWS = 2000
MIN_WINDOW = 12  # steps: fewer make spread and trend meaningless
MAX_SCORE_POINTS = 1500
_NICE = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 10800, 21600, 43200)
_LOOKBACK = timedelta(days=30)  # breakdowns that began this long before the range still count


@dataclass(frozen=True)
class Selection:
    """What the engineer picked. ``step_s`` 0: the model's step; ``horizon_h`` 0: the
    model's horizon (both in recorded, wall-clock time)."""

    machines: tuple[str, ...]
    sensors: tuple[str, ...]
    start: datetime
    end: datetime
    step_s: int = 0
    horizon_h: float = 0.0


@dataclass
class Exploration:
    grid: Plan
    sensors: list[str]  # kinds, in the models' order
    series: pd.DataFrame  # machine, sensor, time (bucket start), value, min, max, n
    windows: pd.DataFrame  # machine, type, start, end, label, hours_to_failure, features…, pc1, pc2
    features: list[str]
    distributions: pd.DataFrame  # feature, label, left, right, count, share
    explained: tuple[float, float] | None  # variance share of pc1, pc2
    alarms: pd.DataFrame  # machine, time, code, severity, source, message
    failures: pd.DataFrame  # machine, failure, repaired, source
    false_alarms: pd.DataFrame  # machine, time, ticket_id
    baseline: str  # where the healthy baseline came from
    stride: int  # windows end every ``stride`` steps

    def label_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.windows["label"].value_counts().items()}


def plan(
    selection: Selection,
    *,
    model_step_s: float,
    time_scale: float,
    model_window: int = Params.window,
    model_horizon_h: float = Params.horizon_h,
) -> Plan:
    """The step (the one asked, else the model's, raised to a round value within the
    budget), the range cut to whole steps, the window length and the horizon."""
    cells = max(1, len(selection.machines) * len(selection.sensors))
    span = max(1.0, (selection.end - selection.start).total_seconds())
    fewest = span / min(MAX_STEPS, MAX_CELLS / cells)
    wanted = selection.step_s or model_step_s
    step = next((s for s in _NICE if s >= max(wanted, fewest)), None)
    if step is None:  # past the ladder: whole hours
        step = 3600 * math.ceil(max(wanted, fewest) / 3600)
    start = _floor(selection.start, step)
    end = _floor(selection.end, step)
    end = end if end > start else start + timedelta(seconds=step)
    window = round(model_window * model_step_s / step)
    horizon_h = selection.horizon_h or model_horizon_h / time_scale
    return Plan(
        start=start,
        end=end,
        step_s=step,
        window=min(model_window, max(MIN_WINDOW, window)),
        horizon_s=horizon_h * 3600.0,
        settle_s=3600.0 / time_scale,  # as ml.features.labels_at: an hour (model time)
        raised=step > wanted,
    )


def _floor(t: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(int(t.timestamp()) // step * step, t.tzinfo)


def series(
    *, session: Session, selection: Selection, model_step_s: float, time_scale: float
) -> tuple[Plan, pd.DataFrame]:
    """The selection's series on its plan's grid, long format (what the export writes)."""
    grid = grid_for(
        session=session, selection=selection, model_step_s=model_step_s, time_scale=time_scale
    )
    refs = sensor_refs(
        session=session, machines=list(selection.machines), kinds=list(selection.sensors)
    )
    return grid, bucket_series(
        session=session, refs=refs, start=grid.start, end=grid.end, step_s=grid.step_s
    )


def grid_for(
    *, session: Session, selection: Selection, model_step_s: float, time_scale: float
) -> Plan:
    """The grid a selection is explored on (with the active model's window and horizon)."""
    return _plan_for(session, selection, model_step_s, time_scale)[0]


def _plan_for(
    session: Session, selection: Selection, model_step_s: float, time_scale: float
) -> tuple[Plan, Baseline | None, str]:
    model = model_baseline(session=session)
    params = model.params if model else {}
    grid = plan(
        selection,
        model_step_s=model_step_s,
        time_scale=time_scale,
        model_window=int(params.get("window", Params.window)),
        model_horizon_h=float(params.get("horizon_h", Params.horizon_h)),
    )
    return grid, (model.baseline if model else None), (model.label if model else "")


def explore(
    *, session: Session, selection: Selection, model_step_s: float, time_scale: float
) -> Exploration:
    """Everything the explore view shows for one selection (see the module docstring)."""
    grid, model, model_label = _plan_for(session, selection, model_step_s, time_scale)
    refs = sensor_refs(
        session=session, machines=list(selection.machines), kinds=list(selection.sensors)
    )
    kinds = sensor_order(refs["sensor"])
    data = bucket_series(
        session=session, refs=refs, start=grid.start, end=grid.end, step_s=grid.step_s
    )
    ids = dict(zip(refs["machine_id"], refs["machine"], strict=False))
    failures, false_alarms = known_failures(
        session=session,
        machines=sorted(set(refs["machine"])),
        since=grid.start - _LOOKBACK,
        until=grid.end + timedelta(seconds=grid.horizon_s),
        horizon_s=grid.horizon_s,
        settle_s=grid.settle_s,
    )
    types = dict(zip(refs["machine"], refs["type"], strict=False))
    windows, x3, stride = cut_windows(data, kinds, types, grid, failures, MAX_WINDOWS)
    baseline, source = choose_baseline(model, model_label, kinds, x3, windows)
    names = feature_names(tuple(kinds)) if kinds else []
    table, dists, explained = with_features(windows, x3, baseline, names)
    return Exploration(
        grid=grid,
        sensors=kinds,
        series=data,
        windows=table,
        features=names,
        distributions=dists,
        explained=explained,
        alarms=alarm_rows(session=session, machine_ids=ids, start=grid.start, end=grid.end),
        failures=failures,
        false_alarms=false_alarms,
        baseline=source,
        stride=stride,
    )


def score_step(grid: Plan) -> int:
    """The bucket width of the score timeline: the grid's step, or wider to keep at most
    ``MAX_SCORE_POINTS`` per machine."""
    span = (grid.end - grid.start).total_seconds()
    return max(grid.step_s, math.ceil(span / MAX_SCORE_POINTS))


def scores(
    *, session: Session, machines: list[str], start: datetime, end: datetime, step_s: int
) -> pd.DataFrame:
    """What the models said about the machines in [start, end): the highest failure
    probability and anomaly score per ``step_s`` bucket (see ``score_step``). It reads every
    scoring in the range (about 500,000 rows per machine-month at one scoring per 5 s), so
    callers take a few machines at a time."""
    ids = machine_ids(session=session, names=machines)
    return score_series(session=session, machine_ids=ids, start=start, end=end, step_s=step_s)
