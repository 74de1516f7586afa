"""The remaining-life forests weigh a window by how near its failure is: where windows a day
from failure and an hour from it look alike, the estimate leans towards the hour."""

from __future__ import annotations

import numpy as np
import pytest

from ml.trees import TreeFailureModel, near_failure_weight


def test_the_weight_falls_from_seven_at_the_failure_to_one_with_none_ahead():
    hours = np.array([0.0, 2.0, 10.0, 24.0, np.inf])
    assert near_failure_weight(hours) == pytest.approx([7.0, 4.0, 2.0, 1.0 + 12 / 26, 1.0])


@pytest.mark.parametrize("probability", ["classifier", "rul"])
def test_alike_windows_near_and_far_from_failure_are_estimated_nearer_the_failure(probability):
    rng = np.random.default_rng(0)
    units = np.repeat(np.arange(20), 40)
    n = len(units)
    # half the windows say nothing (x = 0): as many of them an hour from failure as 21 h;
    # the other half tell the remaining life by their value
    telling = np.arange(n) % 2 == 1
    rul_h = np.where(telling, rng.uniform(0, 24, n), np.where(np.arange(n) % 4 == 0, 1.0, 21.0))
    x = np.where(telling, rul_h + 100, 0.0)[:, None]
    model = TreeFailureModel(horizon_h=6, rul_cap_h=24, probability=probability)
    model.fit(
        x,
        fail=(rul_h <= 6).astype(float),
        fail_known=np.ones(n, bool),
        rul_h=rul_h,
        rul_known=np.ones(n, bool),
        val=np.zeros(n, bool),
        units=units,
    )
    _, rul = model.predict_features(np.zeros((1, 1)))
    w1, w21 = near_failure_weight(np.array([1.0, 21.0]))
    # unweighted, the mean of 1 and 21 h (11 h); weighted, about 5.7 h
    assert rul[0] == pytest.approx((w1 * 1 + w21 * 21) / (w1 + w21), abs=0.3)
