"""The notebook baseline every number is compared with: random forests on the same window
features (no age, no calibration, no early stopping), trained in the same run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from ml.features import Baseline, window_features
from ml.trees import positive_probability
from ml.windows import Params, Windows

__all__ = ["ForestBaseline"]


@dataclass
class ForestBaseline:
    baseline: Baseline
    classifier: RandomForestClassifier
    regressor: RandomForestRegressor

    @classmethod
    def fit(cls, w: Windows, baseline: Baseline, params: Params) -> ForestBaseline:
        """Fit on the windows whose labels are known, as a data person would."""
        x = window_features(w.x3, w.types, baseline)
        forest = {"n_estimators": 100, "min_samples_leaf": 3, "n_jobs": 2}
        fail_known = w.fail_known(params.horizon_h)
        classifier = RandomForestClassifier(random_state=params.seed, **forest).fit(
            x[fail_known], w.ttf_h[fail_known] <= params.horizon_h
        )
        rul_known = w.rul_known(params.rul_cap_h)
        regressor = RandomForestRegressor(random_state=params.seed, **forest).fit(
            x[rul_known], np.minimum(w.ttf_h[rul_known], params.rul_cap_h)
        )
        return cls(baseline, classifier, regressor)

    def predict(self, x3: np.ndarray, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probability of failing within H, RUL hours) per window."""
        x = window_features(x3, types, self.baseline)
        return positive_probability(self.classifier, x), self.regressor.predict(x)
