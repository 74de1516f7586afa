"""Fitting a failure model of either family on the same windows and held-out units, and
choosing between them: the random forest (``ml.trees``) and the LSTM (``ml.failure``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from sklearn.metrics import average_precision_score

from ml.failure import FailureModel
from ml.features import Baseline, lstm_inputs
from ml.inputs import AnyFailureModel, failure_scores, lstm_context, switches, tree_features
from ml.trees import COLUMN_SETS, TreeFailureModel, choose_columns
from ml.windows import Params, Windows, held_out_units

__all__ = ["FamilyFit", "ForestColumns", "finite", "lstm_split", "pick"]

Say = Callable[[str, float], None]
# a blend must beat the forest's held-out RUL error by more than this to be kept
_RUL_MARGIN = 0.02


class ForestColumns:
    """What the forests see besides the window (drift, extremes, switch levels), decided
    once on out-of-fold errors over the training units (``ml.trees.choose_columns``) before
    anything else is fitted: the alarm policy is then chosen on the columns the forests will
    see (``ml.horizon``), and the forests learn from ``features``. The switch levels are a
    candidate only where some sensor is a switch."""

    def __init__(self, w: Windows, baseline: Baseline, params: Params) -> None:
        self.w, self.baseline = w, baseline
        self.switches = switches(w.x3)  # the sensors that are on/off switches
        candidates = {
            name: self._x(*columns)
            for name, columns in COLUMN_SETS.items()
            if self.switches or not columns[2]
        }
        name, self.choice = choose_columns(
            candidates,
            rul_h=w.ttf_h,
            rul_known=w.rul_known(params.rul_cap_h),
            units=w.units,
            cap_h=params.rul_cap_h,
            seed=params.seed,
        )
        self.chosen: tuple[bool, bool, bool] = COLUMN_SETS[name]
        self.features = candidates[name]  # every window's, with the chosen columns

    def _x(self, drift: bool, extremes: bool, levels: bool) -> np.ndarray:
        w = self.w
        context = w.context() if drift else None
        switched = self.switches if levels else ()
        return tree_features(
            w.x3, w.types, context, self.baseline, extremes=extremes, switched=switched
        )


class FamilyFit:
    """The windows, baseline and held-out units (``val``) every family is fitted with."""

    def __init__(
        self,
        w: Windows,
        baseline: Baseline,
        type_names: list[str],
        params: Params,
        val: np.ndarray,
        weights: np.ndarray,
        columns: ForestColumns,
    ) -> None:
        self.w, self.baseline, self.type_names, self.params = w, baseline, type_names, params
        self.val, self.weights = val, weights
        self.fail = (w.ttf_h <= params.horizon_h).astype("float32")
        self.columns = columns  # what the forests see besides the window

    def tree(
        self, say: Say, share: tuple[float, float], *, every_unit: bool = False
    ) -> tuple[TreeFailureModel, dict]:
        """The forests on the units outside ``val``, or on ``every_unit``."""
        p, w = self.params, self.w
        drift, extremes, levels = self.columns.chosen
        model = TreeFailureModel(
            horizon_h=p.horizon_h,
            rul_cap_h=p.rul_cap_h,
            seed=p.seed,
            context=drift,
            extremes=extremes,
            switches=self.columns.switches if levels else (),
            probability=p.probability_source,
        )
        losses = model.fit(
            self.columns.features,
            fail=self.fail,
            fail_known=w.fail_known(p.horizon_h),
            rul_h=w.ttf_h,
            rul_known=w.rul_known(p.rul_cap_h),
            val=np.zeros(len(w.ends), bool) if every_unit else self.val,
            units=w.units,
            weight=self.weights,
        )
        say("random forests fitted", sum(share))
        return model, losses | self.columns.choice

    def lstm(
        self,
        say: Say,
        share: tuple[float, float],
        on_epoch: Callable[[int, dict], None] | None,
        *,
        apart: bool = False,
    ) -> tuple[FailureModel, dict]:
        """The LSTM on the units outside ``val``, stopping and calibrating on ``val``; or,
        ``apart`` (for the family choice), on units outside ``val``, stopping and calibrating
        on units of its own drawn from those, so that ``val`` is as new to it as to the
        forest and the choice between them is fair."""
        p, w = self.params, self.w
        known = w.rul_known(p.rul_cap_h)
        if not known.any():  # too little data to know any label: censored read as healthy
            known = np.ones(len(known), bool)
        learn, stop = lstm_split(w.units, self.val, p.val_share, p.seed, apart=apart)
        known &= learn | stop
        x3, types = w.x3[known], w.types[known]
        extra = lstm_context(x3, types, w.context(known), self.baseline, p.rul_cap_h)
        x = lstm_inputs(x3, types, self.baseline, self.type_names, context=extra)
        model = FailureModel(
            window=p.window,
            n_inputs=x.shape[2],
            horizon_h=p.horizon_h,
            rul_cap_h=p.rul_cap_h,
            units=p.units,
            seed=p.seed,
        )

        def epoch_done(e: int, logs: dict) -> None:
            fraction = share[0] + share[1] * (e + 1) / p.epochs
            say(f"lstm epoch {e + 1}/{p.epochs} loss {logs['loss']:.3f}", fraction)
            if on_epoch:
                on_epoch(e, logs)

        losses = model.fit(
            x,
            self.fail[known],
            w.ttf_h[known].astype("float32"),
            epochs=p.epochs,
            on_epoch=epoch_done,
            sample_weight=self.weights[known],
            val=stop[known],
        )
        return model, losses

    def quality(self, model: AnyFailureModel) -> dict:
        """The model on the held-out units' windows: average precision of "fails within H"
        (how well its alarms can separate), RUL RMSE against the capped truth, and RUL RMSE
        in the last 2 h before a failure (NaN where no held-out window is that close)."""
        w, p, v = self.w, self.params, self.val
        prob, rul = failure_scores(
            model, w.x3[v], w.types[v], w.context(v), self.baseline, self.type_names
        )
        known = w.rul_known(p.rul_cap_h)[v]
        truth = np.minimum(w.ttf_h[v], p.rul_cap_h)
        last = w.last_hours()[v]
        label, labelled = w.ttf_h[v] <= p.horizon_h, w.fail_known(p.horizon_h)[v]
        ap = math.nan
        if labelled.any() and len(np.unique(label[labelled])) == 2:
            ap = float(average_precision_score(label[labelled], prob[labelled]))
        return {
            "val_rul_rmse_h": _rmse(rul[known] - truth[known], empty=math.inf),
            "val_rul_rmse_last2h_h": _rmse(rul[last] - truth[last], empty=math.nan),
            "val_average_precision": ap,
        }

    def choose(self, candidates: dict[str, AnyFailureModel]) -> tuple[str, dict]:
        """Which family to keep, "tree" or "blend", by their RUL errors on the held-out units,
        which neither family learned or stopped on (``pick``). Every candidate's failure
        probability is the forest's, chosen with the horizon on every training unit
        (``ml.horizon``), so the average precision is recorded but does not decide."""
        scores = {family: self.quality(model) for family, model in candidates.items()}
        chosen = pick(scores)
        return chosen, {
            "family_choice": {f: finite(s) for f, s in scores.items()},
            "chosen": chosen,
        }


def pick(scores: dict[str, dict]) -> str:
    """The family to keep, from each one's RUL errors on the held-out units: the blend where
    it beats the forest on both RUL targets, by more than 2 % overall and no worse in the
    last 2 h before a failure (where no held-out window is that close, overall alone);
    otherwise the forest, the simpler model. Overall alone let the blend win on the hours
    far from any failure and lose where a wrong estimate costs a breakdown (docs/ml.md,
    "Choosing"). Scores not measured (None, NaN) never favour the blend."""

    def error(family: str, key: str) -> float:
        value = scores.get(family, {}).get(key)
        return math.nan if value is None else float(value)

    overall, near = "val_rul_rmse_h", "val_rul_rmse_last2h_h"
    better = error("blend", overall) < (1 - _RUL_MARGIN) * error("tree", overall)
    worse_near_failure = error("blend", near) > error("tree", near)
    return "blend" if better and not worse_near_failure else "tree"


def _rmse(err: np.ndarray, *, empty: float) -> float:
    return float(np.sqrt(np.mean(err**2))) if len(err) else empty


def lstm_split(
    units: np.ndarray, val: np.ndarray, share: float, seed: int, *, apart: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(learn, stop): the windows the LSTM learns from and those it stops and calibrates on.
    ``val`` are the held-out units' windows; ``apart``: it stops on a ``share`` of the other
    units (drawn with the seed) and ``val`` is kept from it altogether."""
    if not apart:
        return ~val, val
    own = held_out_units(units[~val], share, seed + 1)
    stop = np.isin(units, list(own))
    return ~val & ~stop, stop


def finite(d: dict) -> dict:
    """JSON-safe metrics: NaN and infinities become None."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}
