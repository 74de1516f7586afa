"""What the failure models see of a window, the same in training, evaluation, backtests and
live scoring: the window itself and its **context**, the machine's current life.

- **age**: hours since the machine's first reading or its last repair;
- **drift**: how far each sensor's window mean has moved from its mean over the first W
  steps of the current life, in the type's healthy spreads, and that drift per hour of age
  (a wear rate). It is causal: a life younger than W steps uses what it has seen so far.

Wear-driven failures depend on these (a pump that warmed by 3 spreads in 20 hours fails
sooner than one that took 60); a window alone cannot see them. The LSTM gets them on every
step. The forest never sees the age (given it, its RUL error grew by 5–20 % while building
this: it split on age, which predicts a unit's remaining life only as well as lives are
alike), and sees the drift and wear rate, and each sensor's extremes in the window, when
they lower its out-of-fold error over the training units (``ml.trees.choose_columns``;
docs/ml.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.blend import BlendFailureModel
from ml.failure import FailureModel
from ml.features import Baseline, lstm_inputs, standardise, window_features
from ml.trees import TreeFailureModel

AnyFailureModel = FailureModel | TreeFailureModel | BlendFailureModel  # a model of any family

__all__ = [
    "AnyFailureModel",
    "Context",
    "early_levels",
    "failure_scores",
    "load_failure_model",
    "switch_levels",
    "switches",
    "tree_features",
]


@dataclass(frozen=True)
class Context:
    """Per window: the machine's age (hours) and its early-life level per sensor (n, S);
    ``early`` None means unknown (drift read as zero)."""

    age_h: np.ndarray
    early: np.ndarray | None = None

    def take(self, rows: np.ndarray | slice) -> Context:
        return Context(self.age_h[rows], None if self.early is None else self.early[rows])

    def drift(self, x3: np.ndarray, types: np.ndarray, baseline: Baseline) -> np.ndarray:
        """(n, 2S): drift since early life in healthy spreads, and that per hour of age."""
        level = x3.mean(axis=1)
        early = level if self.early is None else np.where(np.isnan(self.early), level, self.early)
        _, spread = baseline.arrays(types)
        drift = (level - early) / spread[:, 0, :]
        rate = drift / np.maximum(np.asarray(self.age_h, float)[:, None], 1.0)
        return np.concatenate([drift, rate], axis=1)


def early_levels(times: np.ndarray, values: np.ndarray, repaired: np.ndarray, k: int) -> np.ndarray:
    """Per step, the mean of the first ``k`` steps of the life it belongs to (lives begin at
    the first reading and after each repair), or of the steps so far when younger: (T, S)."""
    starts = np.zeros(len(times), int)
    for t in np.sort(repaired):
        i = int(np.searchsorted(times, t))
        starts[i:] = i
    sums = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    end = np.minimum(starts + k, np.arange(len(times)) + 1)
    return (sums[end] - sums[starts]) / (end - starts)[:, None]


def lstm_context(
    x3: np.ndarray, types: np.ndarray, context: Context, baseline: Baseline, cap_h: float
) -> np.ndarray:
    """The context as the LSTM sees it on every step: age in RUL caps, drift (n, 1 + S)."""
    age = np.clip(np.asarray(context.age_h, float) / cap_h, 0, 20)[:, None]
    drift = context.drift(x3, types, baseline)[:, : x3.shape[2]]
    return np.concatenate([age, np.clip(drift, -50, 50)], axis=1)


def tree_features(
    x3: np.ndarray,
    types: np.ndarray,
    context: Context | None,
    baseline: Baseline,
    units: np.ndarray | None = None,
    *,
    extremes: bool = False,
    switched: tuple[int, ...] = (),
) -> np.ndarray:
    """What the forests see: the window features; with ``extremes``, each sensor's lowest and
    highest value in the window (in healthy spreads); with ``switched`` sensors, the others'
    levels in each switch's on position (``switch_levels``); with a ``context``, each sensor's
    drift since early life and that drift per hour of age (the wear rate); not the age."""
    columns = [window_features(x3, types, baseline, units)]
    z = np.clip(standardise(x3, types, baseline, units), -50, 50) if extremes or switched else x3
    if extremes:
        columns += [z.min(axis=1), z.max(axis=1)]
    if switched:
        columns.append(switch_levels(x3, z, switched))
    if context is not None:
        columns.append(np.clip(context.drift(x3, types, baseline), -50, 50))
    return np.concatenate(columns, axis=1) if len(columns) > 1 else columns[0]


def switches(x3: np.ndarray) -> tuple[int, ...]:
    """The sensors that are on/off switches: every reading 0 or 1, and both seen (a valve's
    end switches, a motor's run flag)."""
    off, on = x3 == 0.0, x3 == 1.0
    found = (off | on).all(axis=(0, 1)) & off.any(axis=(0, 1)) & on.any(axis=(0, 1))
    return tuple(int(s) for s in np.flatnonzero(found))


def switch_levels(x3: np.ndarray, z: np.ndarray, switched: tuple[int, ...]) -> np.ndarray:
    """(n, K × (S − K)): each other sensor's mean (``z``, in healthy spreads) over the window's
    steps with each of the K switches on; NaN where a switch is never on in the window (the
    forests learn where missing values go). A valve's chamber pressure at rest, open, drifts
    with its leaks, but a window's plain mean moves more with how long it stood open."""
    others = [s for s in range(x3.shape[2]) if s not in switched]
    columns = []
    for k in switched:
        on = (x3[:, :, k] > 0.5).astype(float)
        count = on.sum(axis=1)[:, None]
        total = np.einsum("nw,nws->ns", on, z[:, :, others])
        columns.append(np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0))
    return np.concatenate(columns, axis=1)


def failure_scores(
    model: AnyFailureModel,
    x3: np.ndarray,
    types: np.ndarray,
    context: Context,
    baseline: Baseline,
    type_names: list[str],
    units: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Any family's (probability, RUL hours) from raw windows and their context."""
    if isinstance(model, BlendFailureModel):  # one's calibrated probability, the mean RUL
        tree = failure_scores(model.tree, x3, types, context, baseline, type_names, units)
        lstm = failure_scores(model.lstm, x3, types, context, baseline, type_names, units)
        prob = tree[0] if model.probability == "tree" else lstm[0]
        return prob, (tree[1] + lstm[1]) / 2
    if isinstance(model, TreeFailureModel):
        seen = context if model.context else None
        x = tree_features(
            x3, types, seen, baseline, units, extremes=model.extremes, switched=model.switches
        )
        return model.predict_features(x)
    extra: np.ndarray | None = lstm_context(x3, types, context, baseline, model.rul_cap_h)
    if model.n_inputs == x3.shape[2] + len(type_names):  # an LSTM of an earlier release
        extra = None  # learned without the life context
    return model.predict(lstm_inputs(x3, types, baseline, type_names, units, extra))


def load_failure_model(path: Path) -> AnyFailureModel:
    """A saved failure model of any family (earlier releases saved only the LSTM)."""
    family = json.loads((path / "failure.json").read_text()).get("family", "lstm")
    loaders: dict[str, Callable[[Path], AnyFailureModel]] = {
        "tree": TreeFailureModel.load,
        "blend": BlendFailureModel.load,
    }
    return loaders.get(family, FailureModel.load)(path)
