"""Calibrated failure probabilities: isotonic regression of the raw score on held-out units,
so that "0.8" means that about eight windows in ten scored so went on to fail within H; and
the same monotone map from a remaining-life estimate to the hours that followed it
(``Calibrator.fit_hours``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

__all__ = ["Calibrator"]


@dataclass
class Calibrator:
    """A monotone map from raw score to probability, kept as its knots (JSON-friendly)."""

    x: list[float]
    y: list[float]

    @classmethod
    def fit(
        cls, raw: np.ndarray, label: np.ndarray, weight: np.ndarray | None = None
    ) -> Calibrator:
        """Fit on scores of windows the model never learned from; identity if one class."""
        if len(np.unique(label)) < 2:
            return cls.identity()
        return cls._isotonic(raw, label, weight, y_max=1.0)

    @classmethod
    def fit_hours(cls, estimate: np.ndarray, hours: np.ndarray, weight: np.ndarray) -> Calibrator:
        """The monotone map from remaining-life estimates (of windows the model never learned
        from) to the hours that followed them, least squares with ``weight``; never below 0
        and, past the estimates seen, held at its ends."""
        return cls._isotonic(estimate, hours, weight, y_max=None)

    @classmethod
    def _isotonic(
        cls, x: np.ndarray, y: np.ndarray, weight: np.ndarray | None, *, y_max: float | None
    ) -> Calibrator:
        """The weighted least-squares monotone map from ``x`` to ``y``, between 0 and
        ``y_max``, held at its ends past the ``x`` seen."""
        iso = IsotonicRegression(y_min=0.0, y_max=y_max, out_of_bounds="clip")
        iso.fit(x, y, sample_weight=weight)
        return cls(iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())

    @classmethod
    def identity(cls) -> Calibrator:
        return cls([0.0, 1.0], [0.0, 1.0])

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(raw, self.x, self.y)

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y}

    @classmethod
    def from_json(cls, d: dict | None) -> Calibrator:
        return cls.identity() if not d else cls(list(d["x"]), list(d["y"]))
