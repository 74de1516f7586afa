"""The training of both models on run-to-failure data: the IsolationForest and the failure
model of the chosen family (windows and labels come from ``ml.windows``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ml.alarm_policy import FAILURE_THRESHOLD
from ml.anomaly import AnomalyModel
from ml.blend import BlendFailureModel
from ml.dataset import RunToFailure
from ml.drift_reference import Reference, TypeReference, sample_rows
from ml.families import FamilyFit, ForestColumns, finite
from ml.features import (
    Baseline,
    feature_names,
    window_features,
)
from ml.horizon import HORIZONS_H, choose_horizon
from ml.inputs import AnyFailureModel, Context, failure_scores
from ml.windows import FAMILIES, Params, Windows, build_windows, held_out_units, verdict_weights

__all__ = ["Trained", "baseline_from_windows", "train"]

log = logging.getLogger(__name__)


@dataclass
class Trained:
    params: Params
    baseline: Baseline
    anomaly: AnomalyModel
    failure: AnyFailureModel
    type_names: list[str]
    losses: dict
    reference: Reference | None = None  # for drift checks (``ml.drift``)

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
            if self.reference is not None:
                self.reference.save(path)
            paths.append(path)
        return paths[0], paths[1]


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
    baseline = baseline_from_windows(w, healthy, data.sensors)
    say("isolation forest", 0.15)
    feats = window_features(w.x3, w.types, baseline)
    anomaly = AnomalyModel(
        feature_names(data.sensors),
        n_estimators=params.n_estimators,
        seed=params.seed,
        contamination=params.contamination,
    ).fit(feats[healthy], w.types[healthy])
    say("forest columns", 0.18)
    columns = ForestColumns(w, baseline, params)
    horizon: dict = {}
    if params.choose_horizon:  # replayed on the forests' own columns
        say("alarm horizon", 0.2)
        chosen, source, threshold, horizon = choose_horizon(
            columns.features,
            units=w.units,
            ends=w.ends,
            ttf_h=w.ttf_h,
            fail_known=w.fail_known,
            rul_known=w.rul_known(params.rul_cap_h),
            rul_cap_h=params.rul_cap_h,
            failures=data.failures,
            candidates=[h for h in HORIZONS_H if h <= params.rul_cap_h],
            seed=params.seed,
        )
        if params.family == "lstm":  # the choice replayed the forest's probability, not this
            threshold = horizon["alarm_threshold"] = FAILURE_THRESHOLD
        params = replace(
            params, horizon_h=chosen, probability_source=source, alarm_threshold=threshold
        )
    type_names = sorted(set(w.types))
    val = np.isin(w.units, list(held_out_units(w.units, params.val_share, params.seed)))
    weights = verdict_weights(w, data.verdicts, params)
    fit = FamilyFit(w, baseline, type_names, params, val, weights, columns)
    model, losses, choice = _fit_family(fit, params.family, say, on_epoch)
    trained = Trained(
        params, baseline, anomaly, model, type_names, finite(losses) | choice | horizon
    )
    say("reference", 0.97)
    trained.reference = _reference(trained, w, feats, data.sensors)
    say("done", 1.0)
    return trained


REFERENCE_WINDOWS = 1000  # per machine type: enough for 10 PSI bins of 100 and a KS test


def _reference(
    trained: Trained, w: Windows, feats: np.ndarray, sensors: tuple[str, ...]
) -> Reference:
    """A sample of the training windows (every window the models learned from, healthy or
    not, as the live fleet mixes both) with the scores the new models give them."""
    rows = sample_rows(w.types, per_type=REFERENCE_WINDOWS, seed=trained.params.seed)
    anomaly = trained.anomaly.score(feats[rows], w.types[rows]).score
    probability, _ = trained.predict(w.x3[rows], w.types[rows], w.context(rows))
    scores = np.stack([anomaly, probability], axis=1)
    by_type = {
        str(kind): TypeReference(feats[rows][w.types[rows] == kind], scores[w.types[rows] == kind])
        for kind in np.unique(w.types[rows])
    }
    return Reference(tuple(feature_names(sensors)), by_type)


def _fit_family(
    fit: FamilyFit,
    family: str,
    say: Callable[[str, float], None],
    on_epoch: Callable[[int, dict], None] | None,
) -> tuple[AnyFailureModel, dict, dict]:
    """The failure model of ``family``: (model, its losses, how it was chosen). "auto" fits
    the forest and the LSTM and keeps the forest, or the blend (the forest's probability, the
    mean of both RULs) where it estimates the remaining life better on the held-out units
    both overall and in their last 2 h (``ml.families.pick``), units the LSTM neither
    learned nor stopped on (it stops on units of its own); the kept forest then learns from
    every unit (it calibrates on folds of units), while the LSTM keeps the units it stopped
    on. The alarms come from the forest in both: its probability was chosen with the horizon
    on an out-of-fold replay of every training unit, which the LSTM, stopped and calibrated
    on units held out from it, has no honest peer of (choosing by its score there cost a
    development pump fleet its alarm precision, 85 % to 56 %)."""
    if family == "tree":
        tree, losses = fit.tree(say, (0.3, 0.6), every_unit=True)
        return tree, losses, {}
    if family == "lstm":
        lstm, losses = fit.lstm(say, (0.3, 0.6), on_epoch)
        return lstm, losses, {}
    if family == "blend":
        lstm, losses = fit.lstm(say, (0.3, 0.45), on_epoch)
        tree, _ = fit.tree(say, (0.75, 0.15), every_unit=True)
        return BlendFailureModel(tree, lstm), losses, fit.columns.choice
    lstm, losses = fit.lstm(say, (0.3, 0.45), on_epoch, apart=True)
    tree, _ = fit.tree(say, (0.75, 0.1))
    chosen, choice = fit.choose({"tree": tree, "blend": BlendFailureModel(tree, lstm)})
    tree, tree_losses = fit.tree(say, (0.85, 0.1), every_unit=True)
    model: AnyFailureModel = tree if chosen == "tree" else BlendFailureModel(tree, lstm)
    columns = fit.columns.choice  # what the forest sees, in the blend too
    return model, (tree_losses if chosen == "tree" else losses), choice | columns


def baseline_from_windows(w: Windows, healthy: np.ndarray, sensors: tuple[str, ...]) -> Baseline:
    """Each machine type's healthy level: mean and spread of every sensor over the
    ``healthy`` windows (what the window features are normalised by)."""
    base = Baseline(sensors)
    for kind in np.unique(w.types):
        values = w.x3[healthy & (w.types == kind)].reshape(-1, len(sensors))
        base.mean[str(kind)] = values.mean(axis=0).round(6).tolist()
        base.std[str(kind)] = values.std(axis=0).clip(min=1e-6).round(6).tolist()
    return base
