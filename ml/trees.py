"""Random forests on window features (and the life's drift and the window's extremes, where
out-of-fold errors over the training units say they help): failure within H (calibrated)
and remaining useful life, the family the LSTM competes with.

Random forests, not gradient boosting: on the simulated fleet, histogram gradient boosting
with its rounds chosen on held-out units stopped after 15–50 rounds and its RUL in the last
two hours before a failure was 3–7× worse than a plain forest's (docs/ml.md). The failure
probability is calibrated on out-of-fold scores, each fold a set of whole units the forest
never saw (``ml.calibration``); windows whose label is not
known (the data ends before the horizon or the RUL cap is over) are left out of that target.
Where the training units say so (``ml.horizon``), the probability is the RUL forest's estimate
calibrated the same way (``probability="rul"``): no classifier is fitted then.

The RUL forest's estimate becomes hours through a monotone map learned on out-of-fold
estimates, weighted as the forest learns (near a failure more): out of sample a forest pulls
the last hours towards the middle (on development fleets its estimates in the last 2 h before
a failure were 3.4-7.6 h where 1 h was left), and the map stretches them back. On nine
development fleets the error in the last 2 h fell from 0.87 to 0.77 of the baseline's (mean)
and overall rose from 0.75 to 0.78 (docs/ml.md).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import GroupKFold

from ml.calibration import Calibrator

__all__ = [
    "COLUMN_SETS",
    "TreeFailureModel",
    "choose_columns",
    "columns_text",
    "near_failure_weight",
    "positive_probability",
    "rul_forest",
    "rul_out_of_fold",
    "unit_folds",
]

log = logging.getLogger(__name__)

_FOLDS = 5
_FOREST = {"n_estimators": 100, "min_samples_leaf": 3, "n_jobs": 2}
# a remaining-life forest's trees each split on a third of the features at every node
# (Breiman's rule for regression; scikit-learn's default is all of them, the baseline's):
# on four development fleets the RUL error fell 4-9 % overall and 0-6 % in the last 2 h
# against all features, and the forest trained 3-6x faster
RUL_MAX_FEATURES = 1 / 3
# what the forests may see besides the window features, simplest first: (drift, extremes,
# switch levels); the sets with switch levels are candidates only where the data has switches
COLUMN_SETS = {
    "window": (False, False, False),
    "window_and_drift": (True, False, False),
    "window_and_extremes": (False, True, False),
    "window_drift_and_extremes": (True, True, False),
    "window_and_switch_levels": (False, False, True),
    "window_drift_and_switch_levels": (True, False, True),
    "window_extremes_and_switch_levels": (False, True, True),
    "window_drift_extremes_and_switch_levels": (True, True, True),
}
# a remaining-life forest learns each window with weight 1 + 12 / (hours to failure + 2): 7 at
# the failure, 4 two hours before it, 1.5 a day before, 1 with no failure ahead. Windows near
# a failure are few (the last 2 h are 2-5 % of a life) and are where the hours matter most; on
# the four development fleets (pump and valve, seeds 11 and 12, two forest seeds each) the
# RUL error fell 2-12 % in the last 2 h and 1-4 % overall (gains of 6 to 24 over h + 2, and 6
# over h + 1, did alike; docs/ml.md)
NEAR_FAILURE_WEIGHT = (12.0, 2.0)
_COLUMN_GAIN = 0.02  # more columns must lower the out-of-fold RUL error by more than this
# the column choice: folds of whole units, at most this many windows (every k-th); 12,000
# windows and three folds choose in seconds where every window would take minutes
_CHOICE_FOLDS, _MAX_CHOICE_WINDOWS = 3, 12_000


class TreeFailureModel:
    family = "tree"

    def __init__(
        self,
        *,
        horizon_h: float,
        rul_cap_h: float,
        seed: int = 7,
        context: bool = False,
        extremes: bool = False,
        switches: tuple[int, ...] = (),
        probability: str = "classifier",
    ) -> None:
        if probability not in ("classifier", "rul"):
            raise ValueError(
                f"the probability comes from 'classifier' or 'rul', not {probability!r}"
            )
        self.horizon_h, self.rul_cap_h, self.seed = horizon_h, rul_cap_h, seed
        self.probability = probability
        # whether the features end with the life's drift and wear rate (``ml.inputs``); the
        # forests of earlier releases saw the window only and are scored as they learned
        self.context = context
        self.extremes = extremes  # each sensor's lowest and highest value in the window too
        # the on/off sensors whose positions the other sensors' levels are also taken in
        self.switches = tuple(switches)
        self.classifier: RandomForestClassifier | None = None
        self.regressor: RandomForestRegressor | None = None
        self.calibrator = Calibrator.identity()
        # from the RUL forest's estimate to hours (``Calibrator.fit_hours``); None: the
        # estimate as it is (fewer than three units, or a model of an earlier release)
        self.rul_map: Calibrator | None = None

    def fit(
        self,
        x: np.ndarray,
        *,
        fail: np.ndarray,
        fail_known: np.ndarray,
        rul_h: np.ndarray,
        rul_known: np.ndarray,
        val: np.ndarray,
        units: np.ndarray,
        weight: np.ndarray | None = None,
    ) -> dict:
        """Fit on the windows not in ``val`` (kept for choosing a family); the probability is
        calibrated on out-of-fold scores, the folds being whole units."""
        w = np.ones(len(x)) if weight is None else weight
        capped = np.minimum(rul_h, self.rul_cap_h)
        w_rul = w * near_failure_weight(rul_h)
        fit_c, fit_r = _rows(fail_known, val), _rows(rul_known, val)
        y = fail[fit_c]
        # every window's remaining life from forests that never saw its unit: what the map
        # from estimate to hours learns from, and the probability's calibration where it is
        # the RUL forest's
        rows = fit_r | fit_c if self.probability == "rul" else fit_r
        rul, folds = self._rul_out_of_fold(x, capped, fit_r, rows, units, w_rul)
        if folds:
            self.rul_map = Calibrator.fit_hours(rul[fit_r[rows]], capped[fit_r], w_rul[fit_r])
        if self.probability == "rul":  # calibrated on out-of-fold remaining life
            self.calibrator = (
                Calibrator.fit(-rul[fit_c[rows]], y, w[fit_c]) if folds else self.calibrator
            )
        else:
            raw, folds = self._out_of_fold(x[fit_c], y, units[fit_c], w[fit_c])
            self.calibrator = Calibrator.fit(raw, y, w[fit_c]) if folds else self.calibrator
            self.classifier = RandomForestClassifier(random_state=self.seed, **_FOREST)
            self.classifier.fit(x[fit_c], y, sample_weight=w[fit_c])
        self.regressor = rul_forest(self.seed)
        self.regressor.fit(x[fit_r], capped[fit_r], sample_weight=w_rul[fit_r])
        val_r = rul_known & val
        rmse = float("nan")
        if val_r.any():
            err = self._hours(self.regressor.predict(x[val_r])) - np.minimum(
                rul_h[val_r], self.rul_cap_h
            )
            rmse = float(np.sqrt(np.mean(err**2)))
        return {"val_rul_rmse_h": rmse, "calibration_folds": folds}

    def _out_of_fold(
        self, x: np.ndarray, y: np.ndarray, units: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, int]:
        """Each window's raw probability from a forest that never saw its unit; (scores,
        folds), no folds when there are fewer than three units or one class only."""
        k = min(_FOLDS, len(np.unique(units)))
        if k < 3 or len(np.unique(y)) < 2:
            return np.zeros(0), 0
        raw = np.zeros(len(y))
        for train, test in unit_folds(k).split(x, y, units):
            forest = RandomForestClassifier(random_state=self.seed, **_FOREST)
            forest.fit(x[train], y[train], sample_weight=w[train])
            raw[test] = positive_probability(forest, x[test])
        return raw, k

    def _rul_out_of_fold(
        self,
        x: np.ndarray,
        capped: np.ndarray,
        fit_r: np.ndarray,
        estimate: np.ndarray,
        units: np.ndarray,
        w: np.ndarray,
    ) -> tuple[np.ndarray, int]:
        """The remaining life of each ``estimate`` window from a RUL forest fitted on the
        ``fit_r`` windows of the other units; (estimates, folds) as ``_out_of_fold``."""
        rows = np.flatnonzero(estimate)
        k = min(_FOLDS, len(np.unique(units[rows])))
        if k < 3:
            return np.zeros(0), 0
        out = np.zeros(len(rows))
        for _, test in unit_folds(k).split(rows, groups=units[rows]):
            train = fit_r & ~np.isin(units, np.unique(units[rows[test]]))
            if not train.any():
                return np.zeros(0), 0
            forest = rul_forest(self.seed)
            forest.fit(x[train], capped[train], sample_weight=w[train])
            out[test] = forest.predict(x[rows[test]])
        return out, k

    def predict_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated failure probability, remaining useful life in hours)."""
        if len(x) == 0:
            return np.zeros(0), np.zeros(0)
        assert self.regressor is not None, "fit or load the model first"
        rul = self.regressor.predict(x)
        if self.probability == "rul":
            return self.calibrator(-rul), self._hours(rul)
        prob = self.calibrator(positive_probability(self.classifier, x))
        return prob, self._hours(rul)

    def _hours(self, estimate: np.ndarray) -> np.ndarray:
        """The RUL forest's estimates as hours: through the map learned on out-of-fold
        estimates where there is one, never below zero."""
        hours = self.rul_map(estimate) if self.rul_map is not None else estimate
        return np.maximum(hours, 0.0)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        forests = {"classifier": self.classifier, "regressor": self.regressor}
        joblib.dump(forests, path / "trees.joblib", compress=3)  # a third of the size
        (path / "failure.json").write_text(
            json.dumps(
                {
                    "family": self.family,
                    "horizon_h": self.horizon_h,
                    "rul_cap_h": self.rul_cap_h,
                    "seed": self.seed,
                    "context": self.context,
                    "extremes": self.extremes,
                    "switches": list(self.switches),
                    "probability": self.probability,
                    "calibration": self.calibrator.to_json(),
                    "rul_map": None if self.rul_map is None else self.rul_map.to_json(),
                }
            )
        )

    @classmethod
    def load(cls, path: Path) -> TreeFailureModel:
        meta = json.loads((path / "failure.json").read_text())
        model = cls(
            horizon_h=meta["horizon_h"],
            rul_cap_h=meta["rul_cap_h"],
            seed=meta["seed"],
            context=meta.get("context", False),
            extremes=meta.get("extremes", False),  # earlier releases: the window's features
            switches=tuple(meta.get("switches", ())),
            probability=meta.get("probability", "classifier"),  # earlier releases: classifier
        )
        blob = joblib.load(path / "trees.joblib")
        model.classifier, model.regressor = blob["classifier"], blob["regressor"]
        model.calibrator = Calibrator.from_json(meta.get("calibration"))
        if meta.get("rul_map"):  # earlier releases: the forest's estimate as it is
            model.rul_map = Calibrator.from_json(meta["rul_map"])
        return model


def choose_columns(
    candidates: dict[str, np.ndarray],
    *,
    rul_h: np.ndarray,
    rul_known: np.ndarray,
    units: np.ndarray,
    cap_h: float,
    seed: int,
) -> tuple[str, dict]:
    """Which columns the forests see (``candidates``: name -> features, simplest first, the
    first the window alone), on out-of-fold RUL errors: for each candidate, small RUL forests
    learn on two thirds of the training units and score the third they never saw (folds are
    whole units, at most ``_MAX_CHOICE_WINDOWS`` windows take part). A candidate replaces
    the one kept so far only when it lowers that error by more than 2 %. The life's drift
    helps where wear builds up over a life and hurts where faults strike at random
    (development pump fleets and the simulator); a sensor's extremes in the window help
    where a machine cycles (development valve fleets), and so do the levels in each switch
    position where a switch tells the machine's state (``ml.inputs.switch_levels``), so the
    data decides. Fewer than three units, or no known remaining life: the window alone."""
    first = next(iter(candidates))
    rows = np.flatnonzero(rul_known)
    k = min(_CHOICE_FOLDS, len(np.unique(units[rows])))
    if k < 3:
        return first, {}
    rows = rows[:: -(-len(rows) // _MAX_CHOICE_WINDOWS)]
    truth, groups = np.minimum(rul_h[rows], cap_h), units[rows]
    known, weight = np.ones(len(rows), bool), near_failure_weight(rul_h[rows])
    rmse = {}
    for name, x in candidates.items():
        out = rul_out_of_fold(x[rows], truth, known, groups, k, seed, 50, weight)
        assert out is not None  # every row's remaining life is known
        rmse[name] = float(np.sqrt(np.mean((out - truth) ** 2)))
    kept = first
    for name in candidates:
        if rmse[name] < (1 - _COLUMN_GAIN) * rmse[kept]:
            kept = name
    return kept, {"oof_rul_rmse_h_by_columns": rmse, "tree_columns": kept}


def columns_text(name: str) -> str:
    """What forests of the column set ``name`` see, in words ("window + drift, extremes")."""
    extra = ("drift", "extremes", "switch levels")
    seen = [word for word, on in zip(extra, COLUMN_SETS[name], strict=True) if on]
    return " + ".join(["window", ", ".join(seen)]) if seen else "window"


def rul_forest(seed: int, n_estimators: int = 100) -> RandomForestRegressor:
    """An unfitted remaining-life forest as the product trains it."""
    return RandomForestRegressor(
        random_state=seed,
        **(_FOREST | {"n_estimators": n_estimators, "max_features": RUL_MAX_FEATURES}),
    )


def near_failure_weight(rul_h: np.ndarray) -> np.ndarray:
    """What a remaining-life forest learns each window with (``NEAR_FAILURE_WEIGHT``);
    ``rul_h`` uncapped hours to the next failure, inf where none is ahead."""
    gain, offset = NEAR_FAILURE_WEIGHT
    return 1.0 + gain / (np.asarray(rul_h, float) + offset)


def rul_out_of_fold(
    x: np.ndarray,
    rul_h: np.ndarray,
    known: np.ndarray,
    units: np.ndarray,
    k: int,
    seed: int,
    n_estimators: int,
    weight: np.ndarray,
    partition: int | None = None,
) -> np.ndarray | None:
    """Every window's remaining life (capped hours) from RUL forests that never saw its unit
    (``k`` folds of whole units, each fitted on the ``known`` windows of the others with
    ``weight``); None when a fold has no known remaining life to learn from. ``partition``:
    which grouping of the units into folds (``unit_folds``)."""
    out = np.zeros(len(x))
    for train, test in unit_folds(k, partition).split(x, rul_h, units):
        train = train[known[train]]
        if not len(train):
            return None
        forest = rul_forest(seed, n_estimators=n_estimators)
        forest.fit(x[train], rul_h[train], sample_weight=weight[train])
        out[test] = forest.predict(x[test])
    return out


def unit_folds(k: int, partition: int | None = None) -> GroupKFold:
    """``k`` folds of whole units: scikit-learn's default grouping (None), or the units
    shuffled into folds by the seed ``partition``."""
    if partition is None:
        return GroupKFold(n_splits=k)
    return GroupKFold(n_splits=k, shuffle=True, random_state=partition)


def positive_probability(forest: RandomForestClassifier, x: np.ndarray) -> np.ndarray:
    """The forest's probability of the positive class (zero if it only saw negatives)."""
    proba = forest.predict_proba(x)
    return proba[:, list(forest.classes_).index(1)] if 1 in forest.classes_ else np.zeros(len(x))


def _rows(known: np.ndarray, val: np.ndarray) -> np.ndarray:
    """The windows to fit on: known labels outside ``val``; on data too small for that, every
    known label, and at the last resort every window (censored labels read as "no failure")."""
    for rows in (known & ~val, known):
        if rows.any():
            return rows
    log.warning("no window has a known label: censored windows are learned as healthy")
    return np.ones(len(known), bool)
