"""Window features, computed the same way for training (many windows) and for live scoring
(the last window of every machine): arrays of shape (windows, steps, sensors).

Every value is first standardised against its machine type's healthy baseline, so a feature
reads as "standard deviations away from healthy". Per sensor: level (mean), spread (std),
trend (slope per step), recent level (last few steps); for vibration also the RMS ratio.
Beyond the window, a machine's **age** (hours since its first reading or its last repair)
is context that wear-driven failures depend on.

Normalisation is by machine type only, in training, evaluation, backtests and live scoring
alike (models of earlier releases may carry per-machine levels, ``unit_mean``, and are
scored as they were trained).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ml.dataset import RunToFailure

__all__ = [
    "Baseline",
    "RECENT_STEPS",
    "standardise",
    "window_features",
    "feature_names",
    "unit_arrays",
    "windows_at",
    "labels_at",
    "lstm_inputs",
]

_RECENT = 5
RECENT_STEPS = _RECENT  # the "recent" feature's last steps


@dataclass
class Baseline:
    """Healthy mean and spread of each sensor: per machine where the machine's own healthy
    history is known (``unit_mean``), else per machine type."""

    sensors: tuple[str, ...]
    mean: dict[str, list[float]] = field(default_factory=dict)
    std: dict[str, list[float]] = field(default_factory=dict)
    unit_mean: dict[str, list[float]] = field(default_factory=dict)

    def arrays(
        self, types: np.ndarray, units: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, 1, S) means and stds per row: the machine's own healthy level when known, its
        type's otherwise (unknown types: the average type); spreads are per type."""
        fallback_m = np.mean(list(self.mean.values()), axis=0)
        fallback_s = np.mean(list(self.std.values()), axis=0)
        type_m = [self.mean.get(t, fallback_m) for t in types]
        if units is not None:
            type_m = [self.unit_mean.get(str(u), m) for u, m in zip(units, type_m, strict=True)]
        m = np.array(type_m)[:, None, :]
        s = np.array([self.std.get(t, fallback_s) for t in types])[:, None, :]
        return m, s

    def to_json(self) -> dict:
        return {
            "sensors": list(self.sensors),
            "mean": self.mean,
            "std": self.std,
            "unit_mean": self.unit_mean,
        }

    @classmethod
    def from_json(cls, d: dict) -> Baseline:
        return cls(tuple(d["sensors"]), d["mean"], d["std"], d.get("unit_mean", {}))


def standardise(
    x3: np.ndarray, types: np.ndarray, baseline: Baseline, units: np.ndarray | None = None
) -> np.ndarray:
    m, s = baseline.arrays(types, units)
    return (x3 - m) / s


def feature_names(sensors: tuple[str, ...]) -> list[str]:
    names = [f"{s}_{f}" for s in sensors for f in ("level", "spread", "trend", "recent")]
    return names + ["vibration_rms_ratio"] if "vibration" in sensors else names


def window_features(
    x3: np.ndarray, types: np.ndarray, baseline: Baseline, units: np.ndarray | None = None
) -> np.ndarray:
    """(n, W, S) raw windows -> (n, F) features; vectorised over all windows at once."""
    z = standardise(x3, types, baseline, units)
    n, w, s = z.shape
    steps = np.arange(w) - (w - 1) / 2
    trend = np.einsum("nws,w->ns", z - z.mean(axis=1, keepdims=True), steps) / (steps**2).sum()
    per_sensor = np.stack(
        [z.mean(axis=1), z.std(axis=1), trend, z[:, -_RECENT:, :].mean(axis=1)], axis=2
    ).reshape(n, s * 4)
    if "vibration" not in baseline.sensors:
        return per_sensor
    v = baseline.sensors.index("vibration")
    m, _ = baseline.arrays(types, units)
    rms = np.sqrt((x3[:, :, v] ** 2).mean(axis=1)) / np.abs(m[:, 0, v]).clip(min=1e-6)
    return np.concatenate([per_sensor, rms[:, None]], axis=1)


def lstm_inputs(
    x3: np.ndarray,
    types: np.ndarray,
    baseline: Baseline,
    type_names: list[str],
    units: np.ndarray | None = None,
    context: np.ndarray | None = None,
) -> np.ndarray:
    """Standardised sequences plus a one-hot machine type and the ``context`` columns (n, C)
    on every step: (n, W, S + T + C)."""
    z = np.clip(standardise(x3, types, baseline, units), -50, 50)
    onehot = np.array([[t == name for name in type_names] for t in types], dtype=float)
    extra = onehot if context is None else np.concatenate([onehot, context], axis=1)
    return np.concatenate([z, np.repeat(extra[:, None, :], z.shape[1], axis=1)], axis=2).astype(
        "float32"
    )


def unit_arrays(data: RunToFailure) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """unit -> (times as epoch seconds, values (T, S), type), on the data's own grid."""
    out = {}
    for unit, part in data.readings.groupby("unit", sort=False):
        times = epoch_seconds(part["time"])
        out[str(unit)] = (times, part[list(data.sensors)].to_numpy(float), str(part["type"].iat[0]))
    return out


def epoch_seconds(times: pd.Series) -> np.ndarray:
    """Unix seconds of a tz-aware series, whatever its resolution (pandas 3 defaults to us)."""
    return ((times - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(float)


def windows_at(values: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    """The windows of ``window`` steps ending at each index in ``ends``: (len(ends), W, S)."""
    view = sliding_window_view(values, window, axis=0)  # (T - W + 1, S, W)
    return np.transpose(view[ends - window + 1], (0, 2, 1))


def labels_at(times: np.ndarray, unit_failures: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per time: hours to the next failure (inf if none), whether the unit is down or in a
    known fault (``onset`` ≤ t < failure, when the data has onsets), its age (hours since its
    first reading or its last repair) and the hours of data left after it (for censoring)."""
    ttf = np.full(times.shape, np.inf)
    life_start = np.full(times.shape, times[0] if len(times) else 0.0)
    down = np.zeros(times.shape, bool)
    faulty = np.zeros(times.shape, bool)
    for row in unit_failures.sort_values("failure", ascending=False).itertuples():
        failure, repaired = row.failure.timestamp(), row.repaired.timestamp()
        before = times < failure
        ttf[before] = (failure - times[before]) / 3600
        down |= (times >= failure) & (times < repaired + 3600)  # and an hour to settle
        onset = getattr(row, "onset", None)
        if onset is not None and not pd.isna(onset):
            faulty |= (times >= onset.timestamp()) & before
    for repaired in sorted(unit_failures["repaired"].map(pd.Timestamp.timestamp)):
        life_start[times >= repaired] = repaired
    end = times[-1] if len(times) else 0.0
    return {
        "ttf_h": ttf,
        "down": down,
        "faulty": faulty,
        "age_h": (times - life_start) / 3600,
        "left_h": (end - times) / 3600,
    }
