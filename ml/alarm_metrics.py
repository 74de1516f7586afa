"""Alarm quality metrics and the replay of the live alarm logic: the reference implementation.

``replay_alarms`` walks the live hysteresis (``ml.alarm_policy.alarm_raises``) window by window,
per unit and per segment between failures; ``alarm_metrics`` turns the raises and the
failures into recall, precision and lead time, with the definitions of ``ml.evaluate``'s
docstring. The model lab's fast replay (``ml/lab/replay.py``) is checked against these on
random histories (``tests/unit/test_lab_tune_metrics.py``); held-out evaluation
(``ml.evaluate``) and backtest reports use them directly.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.alarm_policy import CLEAR_RATIO, FAILURE_THRESHOLD, alarm_raises
from ml.features import epoch_seconds

__all__ = [
    "Limits",
    "AlarmMetrics",
    "failure_leads",
    "true_raises",
    "alarm_metrics",
    "roc_auc",
    "rule_breaches",
    "replay_alarms",
    "failures_as_seconds",
    "window_alarm_metrics",
]

_HOUR = 3600.0
_WEEK_H = 168.0

# machine type -> sensor -> (warning low, warning high); None where a side has no limit
Limits = dict[str, dict[str, tuple[float | None, float | None]]]

Times = Sequence[float] | np.ndarray  # epoch seconds, as a list or an array


def failure_leads(
    raises: Times,
    failures: Times,
    repairs: Times,
    *,
    min_lead_s: float,
    max_lead_s: float | None = None,
) -> list[float]:
    """For one unit: the lead (seconds) of each failure, NaN if it was not caught.

    A failure is caught by the earliest raise ``r`` after the previous repair of the unit with
    ``r <= failure - min_lead_s`` (and ``r >= failure - max_lead_s`` when given). ``failures``
    and ``repairs`` are paired (the i-th failure was repaired at ``repairs[i]``)."""
    r = np.sort(np.asarray(raises, float))
    order = np.argsort(np.asarray(failures, float))
    fails = np.asarray(failures, float)[order]
    reps = np.asarray(repairs, float)[order]
    leads = []
    for i, failure in enumerate(fails):
        after = reps[i - 1] if i > 0 else -math.inf
        lo = max(after, failure - max_lead_s) if max_lead_s is not None else after
        ok = r[(r > after) & (r >= lo) & (r <= failure - min_lead_s)]
        leads.append(float(failure - ok[0]) if len(ok) else math.nan)
    out = np.empty(len(fails))
    out[order] = leads
    return out.tolist()


def true_raises(raises: Times, failures: Times, *, horizon_s: float) -> list[bool]:
    """For one unit: whether each raise is followed by a failure within ``horizon_s``."""
    f = np.sort(np.asarray(failures, float))
    out = []
    for r in raises:
        i = np.searchsorted(f, r, side="left")  # first failure at or after the raise
        out.append(bool(i < len(f) and f[i] - r <= horizon_s))
    return out


@dataclass
class AlarmMetrics:
    """Alarm quality over a fleet: recall, precision and lead time."""

    failures: int  # failures that could have been caught (scored early enough)
    caught: int
    raised: int  # raises counted for precision (not censored)
    true: int
    leads_h: list[float] = field(default_factory=list)
    # every counted failure: (its row's label in the failures frame, caught)
    outcomes: list[tuple[Hashable, bool]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.failures if self.failures else math.nan

    @property
    def precision(self) -> float:
        return self.true / self.raised if self.raised else math.nan

    @property
    def median_lead_h(self) -> float:
        return float(np.median(self.leads_h)) if self.leads_h else math.nan


def alarm_metrics(
    raises: Mapping[str, Times],
    failures: pd.DataFrame,
    *,
    horizon_h: float,
    min_lead_h: float = 2.0,
    max_lead_h: float | None = None,
    scored: dict[str, np.ndarray] | None = None,
    censor_after: float | None = None,
) -> AlarmMetrics:
    """Fleet metrics from raises per unit (epoch seconds) and ``failures`` (unit, failure,
    repaired as epoch seconds or timestamps).

    ``scored``: per unit, the times that were scored; a failure with no scored time between
    the previous repair and ``failure - min_lead`` could not be caught and is left out.
    ``censor_after``: raises after this time are left out of precision (unknown future)."""
    fails = failures_as_seconds(failures)
    total = caught = raised = true = 0
    leads: list[float] = []
    outcomes: list[tuple[Hashable, bool]] = []
    for unit in sorted(set(raises) | set(fails["unit"])):
        part = fails[fails["unit"] == unit].sort_values("failure")
        f, rep = part["failure"].to_numpy(float), part["repaired"].to_numpy(float)
        r = np.sort(np.asarray(raises.get(unit, []), float))
        unit_leads = failure_leads(
            r,
            f,
            rep,
            min_lead_s=min_lead_h * _HOUR,
            max_lead_s=None if max_lead_h is None else max_lead_h * _HOUR,
        )
        for i, lead in enumerate(unit_leads):
            if scored is not None:
                times = scored.get(unit, np.zeros(0))
                after = rep[i - 1] if i > 0 else -math.inf
                if not np.any((times > after) & (times <= f[i] - min_lead_h * _HOUR)):
                    continue
            total += 1
            outcomes.append((part.index[i], not math.isnan(lead)))
            if not math.isnan(lead):
                caught += 1
                leads.append(lead / _HOUR)
        counted = r if censor_after is None else r[r <= censor_after]
        raised += len(counted)
        true += sum(true_raises(counted, f, horizon_s=horizon_h * _HOUR))
    return AlarmMetrics(total, caught, raised, true, leads, outcomes)


def window_alarm_metrics(
    units: np.ndarray,
    ends: np.ndarray,
    score: np.ndarray,
    failures: pd.DataFrame,
    *,
    horizon_h: float,
    threshold: float = FAILURE_THRESHOLD,
    clear_below: float = FAILURE_THRESHOLD * CLEAR_RATIO,
    clear_after_s: float = 1800.0,
    min_lead_h: float = 2.0,
) -> dict:
    """Recall, precision, median lead and false alarms per unit-week of ``score`` at each
    window end (``units``, ``ends`` in epoch seconds), replayed through the live hysteresis;
    a failure closes the alarm that announced it, and raises in the last H hours of the data
    are left out of precision (what follows them is not known)."""
    censor = float(ends.max()) - horizon_h * _HOUR
    fails = failures_as_seconds(failures)
    resets = {str(u): part["failure"].to_numpy(float) for u, part in fails.groupby("unit")}
    raises = replay_alarms(
        units,
        ends,
        score,
        resets=resets,
        threshold=threshold,
        clear_below=clear_below,
        clear_after_s=clear_after_s,
    )
    scored = {str(u): ends[units == u] for u in np.unique(units)}
    m = alarm_metrics(
        raises,
        failures,
        horizon_h=horizon_h,
        min_lead_h=min_lead_h,
        scored=scored,
        censor_after=censor,
    )
    weeks = _scored_hours(units, ends) / _WEEK_H
    out: dict[str, object] = {
        "recall": m.recall,
        "precision": m.precision,
        "median_lead_h": m.median_lead_h,
        "false_alarms_per_unit_week": (m.raised - m.true) / weeks if weeks else math.nan,
        "failures": m.failures,
        "caught": m.caught,
        "raised": m.raised,
        "true_raises": m.true,
    }
    if "mode" in failures.columns:
        out["caught_by_mode"] = caught_by_mode(m.outcomes, failures)
    return out


def caught_by_mode(
    outcomes: list[tuple[Hashable, bool]], failures: pd.DataFrame
) -> dict[str, list[int]]:
    """Per failure mode (the failures' ``mode`` column: what broke; blank: "not given"),
    [caught, counted]."""
    modes = failures["mode"].fillna("not given").astype(str)
    by_mode: dict[str, list[int]] = {}
    for row, caught in outcomes:
        counts = by_mode.setdefault(modes.loc[row], [0, 0])
        counts[0] += int(caught)
        counts[1] += 1
    return dict(sorted(by_mode.items()))


def _scored_hours(units: np.ndarray, ends: np.ndarray) -> float:
    """Hours of unit time that were scored (breakdowns and gaps left out)."""
    gaps = pd.Series(ends).groupby(units).diff().dropna()
    if gaps.empty:
        return 0.0
    return float(gaps[gaps <= 2 * gaps.median()].sum() / _HOUR)


def failures_as_seconds(failures: pd.DataFrame) -> pd.DataFrame:
    out = failures[["unit", "failure", "repaired"]].copy()
    for column in ("failure", "repaired"):
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = epoch_seconds(pd.to_datetime(out[column], utc=True))
    out["unit"] = out["unit"].astype(str)
    return out


def roc_auc(positive_scores: np.ndarray, negative_scores: np.ndarray) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    pos, neg = np.asarray(positive_scores, float), np.asarray(negative_scores, float)
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    ranks = pd.Series(np.concatenate([pos, neg])).rank().to_numpy()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def replay_alarms(
    units: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    *,
    resets: Mapping[str, Times] | None = None,
    threshold: float = FAILURE_THRESHOLD,
    clear_below: float = FAILURE_THRESHOLD * CLEAR_RATIO,
    clear_after_s: float = 1800.0,
) -> dict[str, list[float]]:
    """The live hysteresis applied per unit to a score at every window end.

    ``resets``: per unit, times (failures) after which the replay starts again with no alarm
    active: a breakdown and its repair close the alarm that announced it."""
    out: dict[str, list[float]] = {}
    for unit in np.unique(units):
        idx = np.flatnonzero(units == unit)
        idx = idx[np.argsort(ends[idx], kind="stable")]
        cuts = np.sort(np.asarray((resets or {}).get(str(unit), []), float))
        segment = np.searchsorted(cuts, ends[idx], side="left")
        raised: list[float] = []
        for k in np.unique(segment):
            part = idx[segment == k]
            raised += alarm_raises(
                ends[part],
                values[part],
                threshold=threshold,
                clear_below=clear_below,
                clear_after_s=clear_after_s,
            )
        out[str(unit)] = raised
    return out


def rule_breaches(
    x3: np.ndarray, types: np.ndarray, sensors: Sequence[str], *, steps: int, limits: Limits
) -> np.ndarray:
    """Whether the mean of the last ``steps`` steps of any sensor breaks its warning limit,
    per window: (n,) bool. ``limits``: type -> sensor -> (warn_low, warn_high), handed in by
    whoever knows them (the configured sensors, the simulator's); a type or sensor without
    limits never breaches."""
    recent = x3[:, -steps:, :].mean(axis=1)
    out = np.zeros(len(x3), bool)
    for kind in np.unique(types):
        rows = types == kind
        for k, sensor in enumerate(sensors):
            low, high = limits.get(str(kind), {}).get(sensor, (None, None))
            if high is not None:
                out[rows] |= recent[rows, k] >= high
            if low is not None:
                out[rows] |= recent[rows, k] <= low
    return out
