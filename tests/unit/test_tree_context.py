"""The forests see the life's drift only where it lowers the error on held-out units."""

from __future__ import annotations

import numpy as np

from ml.trees import context_helps


def test_the_forests_see_the_drift_only_where_it_lowers_the_held_out_error():
    """``context_helps`` keeps the drift columns when the remaining life follows them on
    units the forests never saw, and leaves them out when they are noise."""
    rng = np.random.default_rng(0)
    n = 3000
    units = np.repeat(np.arange(30), n // 30)
    # as many window columns as a few sensors give: each split draws a third of the columns
    window = rng.normal(size=(n, 12))
    drift = rng.uniform(0, 10, size=(n, 2))
    val = units >= 24
    known = np.ones(n, bool)
    follows = 24 - 2 * drift[:, 0] + rng.normal(0, 0.5, n)
    noise = 12 + 3 * window[:, 0] + 2 * window[:, 1] - window[:, 2] + rng.normal(0, 0.5, n)
    with_drift = np.concatenate([window, drift], axis=1)
    kw = {"rul_known": known, "val": val, "cap_h": 24.0, "seed": 1}
    keep, info = context_helps(window, with_drift, rul_h=follows, **kw)
    assert keep and info["sees_drift"]
    rmse = info["val_rul_rmse_h_by_features"]
    assert rmse["window_and_drift"] < rmse["window"] / 2
    keep, _ = context_helps(window, with_drift, rul_h=noise, **kw)
    assert not keep
    assert context_helps(window, with_drift, rul_h=follows, **(kw | {"val": units < 0})) == (
        False,
        {},
    )
