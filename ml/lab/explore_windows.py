"""Windows of the explore view: cut from the bucketed series every k-th step, labelled
from the known failures (recorded breakdowns and technicians' verdicts), and given their
engineered features, distributions and PCA coordinates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from ml.features import Baseline, window_features, windows_at
from ml.lab.explore_stats import DOWN, data_baseline, distributions, projection, window_labels
from ml.lab.labels import breakdowns, verdicts

__all__ = ["Plan", "known_failures", "cut_windows", "choose_baseline", "with_features"]


@dataclass(frozen=True)
class Plan:
    """The grid actually used: [start, end) in whole steps, and the labelling horizon."""

    start: datetime
    end: datetime
    step_s: int
    window: int  # steps per window
    horizon_s: float  # recorded seconds
    settle_s: float  # after a repair, still "down" for this long
    raised: bool  # the step asked for was raised to stay within the budget

    @property
    def steps(self) -> int:
        return round((self.end - self.start).total_seconds() / self.step_s)


def known_failures(
    *,
    session: Session,
    machines: list[str],
    since: datetime,
    until: datetime,
    horizon_s: float,
    settle_s: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Confirmed failures (recorded breakdowns, plus technicians' "real failure" verdicts
    that no breakdown explains) and false-alarm verdicts of the machines."""
    down = breakdowns(session=session, since=since, until=until, machines=machines)
    said = verdicts(session=session, since=since, until=until, machines=machines)
    rows = [(r.unit, r.failure, r.repaired, f"breakdown ({r.source})") for r in down.itertuples()]
    spans = {  # a verdict from just before a breakdown to its settling speaks of that one
        unit: (_epoch(part["failure"]) - horizon_s, _epoch(part["repaired"]) + settle_s)
        for unit, part in down.groupby("unit")
    }
    for v in said[said["confirmed"].astype(bool)].itertuples():
        lo, hi = spans.get(v.unit, (np.empty(0), np.empty(0)))
        if not ((lo <= v.time.timestamp()) & (v.time.timestamp() <= hi)).any():
            rows.append((v.unit, v.time, v.time, f"verdict (ticket #{v.ticket_id})"))
    failures = pd.DataFrame(rows, columns=["machine", "failure", "repaired", "source"])
    for column in ("failure", "repaired"):
        failures[column] = pd.to_datetime(failures[column], utc=True)
    false_alarms = said.loc[~said["confirmed"].astype(bool), ["unit", "time", "ticket_id"]]
    return (
        failures.sort_values("failure", ignore_index=True),
        false_alarms.rename(columns={"unit": "machine"}).reset_index(drop=True),
    )


def cut_windows(
    data: pd.DataFrame,
    kinds: list[str],
    types: dict[str, str],
    grid: Plan,
    failures: pd.DataFrame,
    max_windows: int,
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Windows of ``grid.window`` complete steps, ending every k-th step (k keeps them under
    ``max_windows``), labelled; the frame and the (n, W, S) raw values."""
    times = pd.date_range(grid.start, grid.end, freq=f"{grid.step_s}s", inclusive="left")
    w = grid.window
    machines = sorted(data["machine"].unique()) if not data.empty else []
    candidates = len(machines) * max(0, len(times) - w + 1)
    stride = max(1, math.ceil(candidates / max_windows))
    epoch = (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    epoch = np.asarray(epoch, dtype=float)
    frames, arrays = [], []
    by_machine = dict(tuple(data.groupby("machine"))) if machines else {}
    for machine in machines:
        wide = by_machine[machine].pivot(index="time", columns="sensor", values="value")
        values = wide.reindex(index=times, columns=kinds).to_numpy(float)
        ends = _complete_ends(values, w, stride)
        if len(ends) == 0:
            continue
        starts_s, ends_s = epoch[ends - w + 1], epoch[ends] + grid.step_s
        mine = failures[failures["machine"] == machine]
        label, ttf = window_labels(
            starts_s,
            ends_s,
            pd.DataFrame(
                {"failure": _epoch(mine["failure"]), "repaired": _epoch(mine["repaired"])}
            ),
            horizon_s=grid.horizon_s,
            settle_s=grid.settle_s,
        )
        frames.append(
            pd.DataFrame(
                {
                    "machine": machine,
                    "type": types.get(machine, ""),
                    "start": pd.to_datetime(starts_s, unit="s", utc=True),
                    "end": pd.to_datetime(ends_s, unit="s", utc=True),
                    "label": label,
                    "hours_to_failure": ttf,
                }
            )
        )
        arrays.append(windows_at(values, ends, w))
    if not frames:
        empty = pd.DataFrame(
            columns=["machine", "type", "start", "end", "label", "hours_to_failure"]
        )
        return empty, np.empty((0, w, len(kinds))), stride
    return pd.concat(frames, ignore_index=True), np.concatenate(arrays), stride


def _complete_ends(values: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Every ``stride``-th window end whose window has every sensor at every step."""
    if len(values) < window:
        return np.empty(0, int)
    gaps = np.r_[0, np.cumsum(np.isnan(values).any(axis=1))]
    ends = np.arange(window - 1, len(values), stride)
    return ends[gaps[ends + 1] - gaps[ends + 1 - window] == 0]


def _epoch(column: pd.Series) -> np.ndarray:
    return ((column - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(float)


def choose_baseline(
    model: Baseline | None, label: str, kinds: list[str], x3: np.ndarray, windows: pd.DataFrame
) -> tuple[Baseline | None, str]:
    """The active model's baseline for these sensors when it knows them all, else one from
    the selection's own healthy windows."""
    if model is not None and kinds and set(kinds) <= set(model.sensors):
        idx = [model.sensors.index(k) for k in kinds]
        pick = {name: [v[i] for i in idx] for name, v in model.mean.items()}
        subset = Baseline(
            tuple(kinds),
            pick,
            {name: [v[i] for i in idx] for name, v in model.std.items()},
            {name: [v[i] for i in idx] for name, v in model.unit_mean.items()},
        )
        return subset, f"the active {label}"
    if len(windows) == 0:
        return None, ""
    base = data_baseline(
        x3,
        windows["type"].to_numpy(str),
        windows["label"].to_numpy(str),
        tuple(kinds),
    )
    return base, "this selection's healthy windows (no active model knows these sensors)"


def with_features(
    windows: pd.DataFrame, x3: np.ndarray, baseline: Baseline | None, names: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[float, float] | None]:
    """Windows with their features and PCA coordinates (down windows are left out of the
    projection and the distributions), the distributions, and the PCA's variance shares."""
    table = windows.copy()
    if baseline is None or len(windows) == 0:
        for name in [*names, "pc1", "pc2"]:
            table[name] = pd.Series(dtype=float)
        return table, distributions(np.empty((0, len(names))), names, np.empty(0, str)), None
    feats = window_features(
        x3, windows["type"].to_numpy(str), baseline, windows["machine"].to_numpy(str)
    )
    labels = windows["label"].to_numpy(str)
    table[names] = feats
    running = labels != DOWN
    table["pc1"], table["pc2"] = np.nan, np.nan
    projected = projection(feats[running])
    explained = None
    if projected is not None:
        coords, explained = projected
        table.loc[running, "pc1"], table.loc[running, "pc2"] = coords[:, 0], coords[:, 1]
    return table, distributions(feats, names, labels), explained
