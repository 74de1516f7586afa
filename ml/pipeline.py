"""Training sets from run-to-failure data, and the training of both models."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.anomaly import AnomalyModel
from ml.dataset import RunToFailure
from ml.failure import FailureModel
from ml.features import (
    Baseline,
    epoch_seconds,
    feature_names,
    labels_at,
    lstm_inputs,
    unit_arrays,
    window_features,
    windows_at,
)

__all__ = ["Params", "Windows", "Trained", "build_windows", "train", "verdict_weights"]

_MIN_OWN_WINDOWS = 50  # healthy windows a machine needs before it gets its own baseline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Params:
    window: int = 60  # steps per window (W)
    step_s: float = 60.0  # physics seconds per step
    horizon_h: float = 6.0  # failure within this many hours (H)
    rul_cap_h: float = 24.0
    stride: int = 5  # take every n-th window end when training
    epochs: int = 6
    units: int = 32
    n_estimators: int = 200
    seed: int = 7
    contamination: float | str = "auto"  # IsolationForest: share of healthy windows flagged
    verdict_weight: float = 3.0  # weight of windows a technician's verdict speaks about


@dataclass
class Windows:
    """Windows ending at sampled times, with everything known about them."""

    x3: np.ndarray  # (n, W, S) raw values
    types: np.ndarray
    units: np.ndarray
    ends: np.ndarray  # epoch seconds of each window's last step
    ttf_h: np.ndarray  # hours to the next failure (inf: none ahead)
    faulty: np.ndarray  # a known fault was developing at the window's end


@dataclass
class Trained:
    params: Params
    baseline: Baseline
    anomaly: AnomalyModel
    failure: FailureModel
    type_names: list[str]
    losses: dict

    def save(self, root: Path) -> tuple[Path, Path]:
        """Artefacts of both models (each directory is self-contained)."""
        paths = []
        for kind, model in (("anomaly", self.anomaly), ("failure", self.failure)):
            path = root / kind
            model.save(path)
            (path / "baseline.json").write_text(
                _json(
                    {
                        "baseline": self.baseline.to_json(),
                        "params": asdict(self.params),
                        "type_names": self.type_names,
                    }
                )
            )
            paths.append(path)
        return paths[0], paths[1]


def _json(obj: object) -> str:
    import json

    return json.dumps(obj)


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
        parts.append(
            Windows(
                windows_at(values, ends, params.window),
                np.full(len(ends), kind),
                np.full(len(ends), unit),
                times[ends],
                labels["ttf_h"][ends],
                labels["faulty"][ends],
            )
        )
    return Windows(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("x3", "types", "units", "ends", "ttf_h", "faulty")
        )
    )


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


def train(
    data: RunToFailure,
    params: Params,
    progress: Callable[[str, float], None] | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
) -> Trained:
    """Fit the baseline, the IsolationForests (healthy windows) and the LSTM (all windows,
    those technicians gave a verdict on weighted up). ``on_epoch(epoch, logs)`` follows the
    LSTM's losses."""

    def say(stage: str, fraction: float) -> None:
        if progress:
            progress(stage, fraction)

    say("windows", 0.0)
    w = build_windows(data, params)
    healthy = (w.ttf_h > 2 * params.horizon_h) & ~w.faulty
    baseline = _baseline_from_windows(w, healthy, data.sensors)
    say("isolation forest", 0.15)
    feats = window_features(w.x3, w.types, baseline, w.units)
    anomaly = AnomalyModel(
        feature_names(data.sensors),
        n_estimators=params.n_estimators,
        seed=params.seed,
        contamination=params.contamination,
    ).fit(feats[healthy], w.types[healthy])
    say("lstm", 0.3)
    type_names = sorted(set(w.types))
    x = lstm_inputs(w.x3, w.types, baseline, type_names, w.units)
    failure = FailureModel(
        window=params.window,
        n_inputs=x.shape[2],
        horizon_h=params.horizon_h,
        rul_cap_h=params.rul_cap_h,
        units=params.units,
        seed=params.seed,
    )

    def epoch_done(e: int, logs: dict) -> None:
        say(
            f"lstm epoch {e + 1}/{params.epochs} loss {logs['loss']:.3f}",
            0.3 + 0.7 * (e + 1) / params.epochs,
        )
        if on_epoch:
            on_epoch(e, logs)

    weights = verdict_weights(w, data.verdicts, params)
    losses = failure.fit(
        x,
        (w.ttf_h <= params.horizon_h).astype("float32"),
        w.ttf_h.astype("float32"),
        epochs=params.epochs,
        on_epoch=epoch_done,
        sample_weight=weights if (weights != 1).any() else None,
    )
    return Trained(params, baseline, anomaly, failure, type_names, losses)


def _baseline_from_windows(w: Windows, healthy: np.ndarray, sensors: tuple[str, ...]) -> Baseline:
    base = Baseline(sensors)
    for kind in np.unique(w.types):
        values = w.x3[healthy & (w.types == kind)].reshape(-1, len(sensors))
        base.mean[str(kind)] = values.mean(axis=0).round(6).tolist()
        base.std[str(kind)] = values.std(axis=0).clip(min=1e-6).round(6).tolist()
    for unit in np.unique(w.units):  # each machine's own healthy level, when it has enough
        mine = healthy & (w.units == unit)
        if mine.sum() >= _MIN_OWN_WINDOWS:
            level = w.x3[mine].reshape(-1, len(sensors)).mean(axis=0)
            base.unit_mean[str(unit)] = level.round(6).tolist()
    return base
