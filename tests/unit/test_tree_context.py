"""The forests see the life's drift, or a sensor's extremes in the window, only where that
lowers the error on units they never saw."""

from __future__ import annotations

import numpy as np

from ml.trees import choose_columns


def test_the_forests_see_more_columns_only_where_they_lower_the_held_out_error():
    """``choose_columns`` keeps the drift columns when the remaining life follows them on
    units the forests never saw (out of fold), the extremes when it follows those, and the
    window alone when the extra columns are noise."""
    rng = np.random.default_rng(0)
    n = 3000
    units = np.repeat(np.arange(30), n // 30)
    # as many window columns as a few sensors give: each split draws a third of the columns
    window = rng.normal(size=(n, 12))
    drift = rng.uniform(0, 10, size=(n, 2))
    extremes = rng.uniform(0, 10, size=(n, 2))
    candidates = {
        "window": window,
        "window_and_drift": np.concatenate([window, drift], axis=1),
        "window_and_extremes": np.concatenate([window, extremes], axis=1),
    }
    kw = {"rul_known": np.ones(n, bool), "units": units, "cap_h": 24.0, "seed": 1}

    follows_drift = 24 - 2 * drift[:, 0] + rng.normal(0, 0.5, n)
    name, info = choose_columns(candidates, rul_h=follows_drift, **kw)
    assert name == info["tree_columns"] == "window_and_drift"
    rmse = info["oof_rul_rmse_h_by_columns"]
    assert rmse["window_and_drift"] < rmse["window"] / 2

    follows_extremes = 24 - 2 * extremes[:, 1] + rng.normal(0, 0.5, n)
    assert choose_columns(candidates, rul_h=follows_extremes, **kw)[0] == "window_and_extremes"

    noise = 12 + 3 * window[:, 0] + 2 * window[:, 1] - window[:, 2] + rng.normal(0, 0.5, n)
    assert choose_columns(candidates, rul_h=noise, **kw)[0] == "window"
    # fewer than three units to fold over: the window alone, nothing measured
    assert choose_columns(candidates, rul_h=follows_drift, **(kw | {"units": units % 2})) == (
        "window",
        {},
    )
