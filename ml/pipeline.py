"""Training sets from run-to-failure data (windows, labels, the life context), and the
training of both models: the IsolationForest and the failure model of the chosen family."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ml.anomaly import AnomalyModel
from ml.blend import BlendFailureModel
from ml.dataset import DataError, RunToFailure
from ml.failure import FailureModel
from ml.families import FamilyFit, finite
from ml.features import (
    Baseline,
    epoch_seconds,
    feature_names,
    labels_at,
    unit_arrays,
    window_features,
    windows_at,
)
from ml.inputs import Context, early_levels, failure_scores, load_failure_model
from ml.trees import TreeFailureModel

__all__ = [
    "FAMILIES",
    "Params",
    "Windows",
    "Trained",
    "build_windows",
    "train",
    "verdict_weights",
    "load_failure_model",
    "held_out_units",
    "Context",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Params:
    window: int = 60  # steps per window (W)
    step_s: float = 60.0  # physics seconds per step
    horizon_h: float = 6.0  # failure within this many hours (H)
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


@dataclass
class Trained:
    params: Params
    baseline: Baseline
    anomaly: AnomalyModel
    failure: FailureModel | TreeFailureModel | BlendFailureModel
    type_names: list[str]
    losses: dict

    @property
    def family(self) -> str:
        return self.failure.family

    def predict(
        self, x3: np.ndarray, types: np.ndarray, context: Context, units: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(failure probability, RUL hours) of raw windows in their context: what evaluation
        and backtests call, through the same ``failure_scores`` as live scoring."""
        return failure_scores(
            self.failure, x3, types, context, self.baseline, self.type_names, units
        )

    def save(self, root: Path) -> tuple[Path, Path]:
        """Artefacts of both models (each directory is self-contained)."""
        paths = []
        for kind, model in (("anomaly", self.anomaly), ("failure", self.failure)):
            path = root / kind
            model.save(path)
            (path / "baseline.json").write_text(
                json.dumps(
                    {
                        "baseline": self.baseline.to_json(),
                        "params": asdict(self.params),
                        "type_names": self.type_names,
                        "family": self.family,
                    }
                )
            )
            paths.append(path)
        return paths[0], paths[1]


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


def train(
    data: RunToFailure,
    params: Params,
    progress: Callable[[str, float], None] | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
) -> Trained:
    """Fit the baseline, the IsolationForests (healthy windows) and the failure model of
    ``params.family`` ("auto": the forest, the LSTM or their blend, whichever does best on
    the held-out units). ``on_epoch(epoch, logs)`` follows the LSTM's losses."""

    def say(stage: str, fraction: float) -> None:
        if progress:
            progress(stage, fraction)

    if params.family not in FAMILIES:
        raise ValueError(f"unknown model family {params.family!r}; one of {FAMILIES}")
    say("windows", 0.0)
    w = build_windows(data, params)
    healthy = (w.ttf_h > 2 * params.horizon_h) & ~w.faulty
    baseline = _baseline_from_windows(w, healthy, data.sensors)
    say("isolation forest", 0.15)
    feats = window_features(w.x3, w.types, baseline)
    anomaly = AnomalyModel(
        feature_names(data.sensors),
        n_estimators=params.n_estimators,
        seed=params.seed,
        contamination=params.contamination,
    ).fit(feats[healthy], w.types[healthy])
    type_names = sorted(set(w.types))
    val = np.isin(w.units, list(held_out_units(w.units, params.val_share, params.seed)))
    weights = verdict_weights(w, data.verdicts, params)
    fit = FamilyFit(w, baseline, type_names, params, val, weights)
    model, losses, choice = _fit_family(fit, params.family, say, on_epoch)
    say("done", 1.0)
    return Trained(params, baseline, anomaly, model, type_names, finite(losses) | choice)


def _fit_family(
    fit: FamilyFit,
    family: str,
    say: Callable[[str, float], None],
    on_epoch: Callable[[int, dict], None] | None,
) -> tuple[FailureModel | TreeFailureModel | BlendFailureModel, dict, dict]:
    """The failure model of ``family``: (model, its losses, how it was chosen). "auto" fits
    the forest and the LSTM, scores them and their blend on the held-out units, and keeps
    the best; a forest kept alone or in a blend then learns from every unit (it calibrates
    on folds of units), while the LSTM keeps the held-out units it stopped and calibrated on."""
    if family == "tree":
        model, losses = fit.tree(say, (0.3, 0.6), every_unit=True)
        return model, losses, {}
    if family == "lstm":
        model, losses = fit.lstm(say, (0.3, 0.6), on_epoch)
        return model, losses, {}
    lstm, losses = fit.lstm(say, (0.3, 0.45), on_epoch)
    if family == "blend":
        tree, _ = fit.tree(say, (0.75, 0.15), every_unit=True)
        return BlendFailureModel(tree, lstm), losses, {}
    tree, tree_losses = fit.tree(say, (0.75, 0.1))
    candidates = {"tree": tree, "lstm": lstm, "blend": BlendFailureModel(tree, lstm)}
    chosen, choice = fit.choose(candidates)
    if chosen != "lstm":  # chosen on the held-out units: now learn from them too
        tree, tree_losses = fit.tree(say, (0.85, 0.1), every_unit=True)
    model = {"tree": tree, "lstm": lstm, "blend": BlendFailureModel(tree, lstm)}[chosen]
    return model, (losses if chosen == "lstm" else tree_losses), choice


def _baseline_from_windows(w: Windows, healthy: np.ndarray, sensors: tuple[str, ...]) -> Baseline:
    base = Baseline(sensors)
    for kind in np.unique(w.types):
        values = w.x3[healthy & (w.types == kind)].reshape(-1, len(sensors))
        base.mean[str(kind)] = values.mean(axis=0).round(6).tolist()
        base.std[str(kind)] = values.std(axis=0).clip(min=1e-6).round(6).tolist()
    return base
