"""Training and test sets from run-to-failure data: the parameters of a model, the windows
cut from every unit's life with their labels (hours to failure, fault developing, the life's
age and early levels), the technicians' verdicts as weights, and the units kept out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.alarm_policy import FAILURE_THRESHOLD
from ml.dataset import DataError, RunToFailure
from ml.features import epoch_seconds, labels_at, unit_arrays, windows_at
from ml.inputs import Context, early_levels

__all__ = [
    "FAMILIES",
    "LAST_HOURS_H",
    "Params",
    "Windows",
    "build_windows",
    "verdict_weights",
    "held_out_units",
]


@dataclass(frozen=True)
class Params:
    window: int = 60  # steps per window (W)
    step_s: float = 60.0  # physics seconds per step
    horizon_h: float = 6.0  # failure within this many hours (H)
    choose_horizon: bool = False  # H chosen on the training units instead (``ml.horizon``)
    # the forests' failure probability: their "fails within H" classifier, or their remaining
    # life calibrated into it ("rul"); chosen with H when H is (``ml.horizon``)
    probability_source: str = "classifier"
    # the failure alarm's threshold the training units chose with H (``ml.horizon``); the
    # live product uses it unless the plant set its own (``maintenance.ops.app_settings``)
    alarm_threshold: float = FAILURE_THRESHOLD
    rul_cap_h: float = 24.0  # RUL targets above this are learned and scored as the cap
    stride: int = 5  # take every n-th window end when training
    epochs: int = 6  # LSTM: at most; training stops early on the held-out units
    units: int = 32
    n_estimators: int = 200
    seed: int = 7
    contamination: float | str = "auto"  # IsolationForest: share of healthy windows flagged
    verdict_weight: float = 3.0  # weight of windows a technician's verdict speaks about
    family: str = "tree"  # failure model: "tree", "lstm", "blend" (their mean) or "auto"
    val_share: float = 0.2  # units held out for early stopping, calibration, family choice


FAMILIES = ("tree", "lstm", "blend", "auto")
# the hours before a failure that the RUL error is also judged on alone: where a wrong
# estimate costs a breakdown, and where the hours far from one no longer drown it out
LAST_HOURS_H = 2.0


@dataclass
class Windows:
    """Windows ending at sampled times, with everything known about them."""

    x3: np.ndarray  # (n, W, S) raw values
    types: np.ndarray
    units: np.ndarray
    ends: np.ndarray  # epoch seconds of each window's last step
    ttf_h: np.ndarray  # hours to the next failure (inf: none ahead)
    faulty: np.ndarray  # a known fault was developing at the window's end
    age_h: np.ndarray  # hours since the unit's first reading or last repair
    left_h: np.ndarray  # hours of the unit's data after the window's end
    early: np.ndarray  # (n, S) sensor means over the first W steps of the window's life

    def context(self, rows: np.ndarray | slice = slice(None)) -> Context:
        return Context(self.age_h[rows], self.early[rows])

    def fail_known(self, horizon_h: float) -> np.ndarray:
        """Whether "fails within H" is known: a failure follows, or H hours of data do."""
        return np.isfinite(self.ttf_h) | (self.left_h >= horizon_h)

    def rul_known(self, cap_h: float) -> np.ndarray:
        """Whether min(RUL, cap) is known."""
        return np.isfinite(self.ttf_h) | (self.left_h >= cap_h)

    def last_hours(self) -> np.ndarray:
        """Whether the window ends in the last ``LAST_HOURS_H`` before a failure."""
        return self.ttf_h <= LAST_HOURS_H


def build_windows(data: RunToFailure, params: Params, *, stride: int | None = None) -> Windows:
    """Every ``stride``-th window that does not overlap a breakdown, with its labels."""
    stride = stride or params.stride
    parts = []
    for unit, (times, values, kind) in unit_arrays(data).items():
        labels = labels_at(times, data.failures[data.failures["unit"] == unit])
        down_in_window = (
            np.convolve(labels["down"], np.ones(params.window), "full")[: len(times)] > 0
        )
        ends = np.arange(params.window - 1, len(times), stride)
        ends = ends[~down_in_window[ends]]
        if len(ends) == 0:
            continue
        repaired = epoch_seconds(data.failures.loc[data.failures["unit"] == unit, "repaired"])
        early = early_levels(times, values, repaired, params.window)
        parts.append(
            Windows(
                windows_at(values, ends, params.window),
                np.full(len(ends), kind),
                np.full(len(ends), unit),
                times[ends],
                labels["ttf_h"][ends],
                labels["faulty"][ends],
                labels["age_h"][ends],
                labels["left_h"][ends],
                early[ends],
            )
        )
    if not parts:
        raise DataError(f"no unit has {params.window} steps in a row outside a breakdown")
    fields = ("x3", "types", "units", "ends", "ttf_h", "faulty", "age_h", "left_h", "early")
    return Windows(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def verdict_weights(w: Windows, verdicts: pd.DataFrame | None, params: Params) -> np.ndarray:
    """Per window: ``params.verdict_weight`` for windows ending within the horizon before a
    technician's verdict on that unit (the windows the verdict speaks about), 1 otherwise."""
    weights = np.ones(len(w.ends), "float32")
    if verdicts is None or verdicts.empty:
        return weights
    horizon_s = params.horizon_h * 3600
    times = epoch_seconds(pd.to_datetime(verdicts["time"], utc=True))
    for unit, t in zip(verdicts["unit"].astype(str), times, strict=True):
        near = (w.units == unit) & (w.ends <= t) & (w.ends >= t - horizon_s)
        weights[near] = params.verdict_weight
    return weights


def held_out_units(units: np.ndarray, share: float, seed: int) -> set[str]:
    """A reproducible share of the units (at least one when there are three or more)."""
    names = sorted({str(u) for u in units})
    if len(names) < 3 or share <= 0:
        return set()
    count = max(1, round(share * len(names)))
    return set(np.random.default_rng(seed).choice(names, size=count, replace=False).tolist())
