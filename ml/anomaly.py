"""IsolationForest per machine type, trained on healthy windows.

The score is calibrated on the healthy training windows: 0.5 is their 99th percentile of
abnormality (``contamination`` "auto"; a number c puts it at the 1 − c quantile), so about one
healthy window in a hundred scores above 0.5 (``is_anomaly``).
An anomaly is explained by the sensors whose features sit furthest from healthy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import IsolationForest

__all__ = ["AnomalyModel", "AnomalyResult"]


@dataclass
class AnomalyResult:
    score: np.ndarray  # [0, 1]
    is_anomaly: np.ndarray  # bool
    top_sensors: list[list[str]]


class AnomalyModel:
    def __init__(
        self,
        feature_names: list[str],
        *,
        n_estimators: int = 200,
        seed: int = 7,
        contamination: float | str = "auto",
    ) -> None:
        self.feature_names = feature_names
        self.n_estimators, self.seed, self.contamination = n_estimators, seed, contamination
        self.forests: dict[str, IsolationForest] = {}
        self.calibration: dict[str, tuple[float, float]] = {}
        self.feature_mean: dict[str, np.ndarray] = {}
        self.feature_std: dict[str, np.ndarray] = {}

    def fit(self, features: np.ndarray, types: np.ndarray) -> AnomalyModel:
        """Fit one forest per type on healthy windows only."""
        for kind in np.unique(types):
            x = features[types == kind]
            forest = IsolationForest(
                n_estimators=self.n_estimators,
                random_state=self.seed,
                n_jobs=1,
                contamination=self.contamination,
            ).fit(x)
            raw = -forest.score_samples(x)
            upper = 0.99 if self.contamination == "auto" else 1 - float(self.contamination)
            q50, q99 = np.quantile(raw, [0.5, upper])
            self.forests[str(kind)] = forest
            self.calibration[str(kind)] = (float(q99), float(max(q99 - q50, 1e-6) / 3))
            self.feature_mean[str(kind)] = x.mean(axis=0)
            self.feature_std[str(kind)] = x.std(axis=0).clip(min=1e-6)
        return self

    def score(self, features: np.ndarray, types: np.ndarray, top: int = 2) -> AnomalyResult:
        """Scores for any mix of types in one call per type present."""
        score = np.zeros(len(features))
        tops: list[list[str]] = [[] for _ in range(len(features))]
        for kind in np.unique(types):
            idx = np.flatnonzero(types == kind)
            model_kind = str(kind) if str(kind) in self.forests else next(iter(self.forests))
            raw = -self.forests[model_kind].score_samples(features[idx])
            center, scale = self.calibration[model_kind]
            score[idx] = 1 / (1 + np.exp(-(raw - center) / scale))
            z = np.abs(
                (features[idx] - self.feature_mean[model_kind]) / self.feature_std[model_kind]
            )
            for row, i in zip(z, idx, strict=True):
                tops[i] = self._explain(row, top)
        return AnomalyResult(score, score >= 0.5, tops)

    def _explain(self, z: np.ndarray, top: int) -> list[str]:
        by_sensor: dict[str, float] = {}
        for name, value in zip(self.feature_names, z, strict=True):
            sensor = name.split("_")[0]
            by_sensor[sensor] = max(by_sensor.get(sensor, 0.0), float(value))
        return [s for s, _ in sorted(by_sensor.items(), key=lambda kv: -kv[1])[:top]]

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {"forests": self.forests, "mean": self.feature_mean, "std": self.feature_std},
            path / "forests.joblib",
        )
        (path / "anomaly.json").write_text(
            json.dumps(
                {
                    "feature_names": self.feature_names,
                    "calibration": self.calibration,
                    "n_estimators": self.n_estimators,
                    "seed": self.seed,
                    "contamination": self.contamination,
                }
            )
        )

    @classmethod
    def load(cls, path: Path) -> AnomalyModel:
        meta = json.loads((path / "anomaly.json").read_text())
        model = cls(
            meta["feature_names"],
            n_estimators=meta["n_estimators"],
            seed=meta["seed"],
            contamination=meta.get("contamination", "auto"),
        )
        blob = joblib.load(path / "forests.joblib")
        model.forests, model.feature_mean, model.feature_std = (
            blob["forests"],
            blob["mean"],
            blob["std"],
        )
        model.calibration = {k: tuple(v) for k, v in meta["calibration"].items()}
        return model
