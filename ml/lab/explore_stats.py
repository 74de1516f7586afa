"""Labels, baselines, distributions and a 2-D projection of windows: the numbers behind the
lab's explore view, pure functions of arrays (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import Baseline

__all__ = [
    "HEALTHY",
    "PRE_FAILURE",
    "DOWN",
    "LABELS",
    "window_labels",
    "data_baseline",
    "distributions",
    "projection",
]

HEALTHY, PRE_FAILURE, DOWN = "healthy", "pre-failure", "down"
LABELS = (HEALTHY, PRE_FAILURE, DOWN)


def window_labels(
    starts: np.ndarray,
    ends: np.ndarray,
    failures: pd.DataFrame,
    *,
    horizon_s: float,
    settle_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One machine's windows [start, end) (epoch seconds) against its failures (``failure``,
    ``repaired`` as epoch seconds): (label, hours to the next failure, inf if none).

    ``down``: the window overlaps a breakdown or the ``settle_s`` after its repair;
    ``pre-failure``: a failure follows the window's end within ``horizon_s``."""
    ttf = np.full(ends.shape, np.inf)
    down = np.zeros(ends.shape, bool)
    for failure, repaired in zip(failures["failure"], failures["repaired"], strict=True):
        ahead = ends <= failure
        ttf[ahead] = np.minimum(ttf[ahead], (failure - ends[ahead]) / 3600.0)
        down |= (starts < repaired + settle_s) & (ends > failure)
    labels = np.where(down, DOWN, np.where(ttf * 3600.0 <= horizon_s, PRE_FAILURE, HEALTHY))
    return labels, ttf


def data_baseline(
    x3: np.ndarray,
    types: np.ndarray,
    labels: np.ndarray,
    sensors: tuple[str, ...],
) -> Baseline:
    """A healthy baseline from the windows themselves (no model active, or one that knows
    other sensors): per type from its healthy windows (all of its running windows when none
    is healthy), as the models normalise (by type only)."""
    base = Baseline(sensors)
    running = labels != DOWN
    for kind in np.unique(types):
        mine = (types == kind) & running
        healthy = mine & (labels == HEALTHY)
        values = x3[healthy if healthy.any() else mine].reshape(-1, len(sensors))
        if len(values) == 0:
            values = x3[types == kind].reshape(-1, len(sensors))
        base.mean[str(kind)] = values.mean(axis=0).tolist()
        base.std[str(kind)] = values.std(axis=0).clip(min=1e-6).tolist()
    return base


def distributions(
    features: np.ndarray, names: list[str], labels: np.ndarray, *, bins: int = 30
) -> pd.DataFrame:
    """Per feature, a histogram of healthy and of pre-failure windows on shared bins (the
    1st to 99th percentile of both, so one wild window does not flatten the rest):
    feature, label, left, right, count, share (of that label's windows)."""
    keep = np.isin(labels, (HEALTHY, PRE_FAILURE))
    rows = []
    for j, name in enumerate(names):
        column = features[keep, j]
        finite = np.isfinite(column)
        if not finite.any():
            continue
        lo, hi = np.percentile(column[finite], [1, 99])
        hi = hi if hi > lo else lo + 1e-6
        edges = np.linspace(lo, hi, bins + 1)
        for label in (HEALTHY, PRE_FAILURE):
            values = np.clip(column[finite & (labels[keep] == label)], lo, hi)
            counts, _ = np.histogram(values, bins=edges)
            share = counts / max(1, len(values))
            rows += [
                (name, label, edges[i], edges[i + 1], int(counts[i]), float(share[i]))
                for i in range(bins)
            ]
    return pd.DataFrame(rows, columns=["feature", "label", "left", "right", "count", "share"])


def projection(features: np.ndarray) -> tuple[np.ndarray, tuple[float, float]] | None:
    """Each window's first two principal components (features standardised first) and the
    share of variance each explains; None with fewer than 3 windows or 2 features."""
    from sklearn.decomposition import PCA  # lazy: the web process loads sklearn only here
    from sklearn.preprocessing import StandardScaler

    finite = np.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0)
    if finite.shape[0] < 3 or finite.shape[1] < 2:
        return None
    scaled = StandardScaler().fit_transform(finite)
    pca = PCA(n_components=2, random_state=0).fit(scaled)
    ratio = pca.explained_variance_ratio_
    return pca.transform(scaled), (float(ratio[0]), float(ratio[1]))
