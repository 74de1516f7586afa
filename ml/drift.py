"""Drift statistics, vectorised over every feature at once: the population stability index
(PSI) on the reference's quantile bins, the two-sample Kolmogorov-Smirnov test (scipy), and
the share of current values outside the reference's range.

Inputs are (rows, features) arrays of one machine type: the reference sample the model
stored at training time (``ml.drift_reference``) and the recent live windows' features (or
scores, one column each). Nothing here reads settings: thresholds are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "BINS",
    "EXACT_KS_PAIRS",
    "FeatureDrift",
    "bin_shares",
    "compare",
    "psi",
    "psi_of_shares",
    "quantile_edges",
]

BINS = 10
_EPS = 1e-4  # an empty bin counts as this share, so the logarithm stays finite
EXACT_KS_PAIRS = 1_000_000  # reference × live sizes up to which the KS p-value is exact


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """Per feature (arrays of length F): PSI, KS statistic and p-value, the share of current
    values outside the reference's [min, max], and both samples' shares per reference bin
    (F, BINS)."""

    psi: np.ndarray
    ks: np.ndarray
    p_value: np.ndarray
    out_of_range: np.ndarray
    reference_shares: np.ndarray
    current_shares: np.ndarray


def quantile_edges(reference: np.ndarray, bins: int = BINS) -> np.ndarray:
    """The inner bin edges of each feature, at the reference's quantiles: (bins - 1, F)."""
    return np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1], axis=0)


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of ``values`` (n, F) in each bin of ``edges`` (B - 1, F): (F, B); bins are
    right-closed, the first and last open-ended."""
    bins = edges.shape[0] + 1
    features = values.shape[1]
    index = (values[:, None, :] > edges[None, :, :]).sum(axis=1)  # (n, F) in [0, B)
    flat = index + np.arange(features)[None, :] * bins
    counts = np.bincount(flat.ravel(), minlength=features * bins).reshape(features, bins)
    return counts / max(len(values), 1)


def psi(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Population stability index of each feature: sum over bins of (c - r) ln(c / r)."""
    edges = quantile_edges(reference, bins)
    return psi_of_shares(bin_shares(reference, edges), bin_shares(current, edges))


def psi_of_shares(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """PSI from both samples' shares per bin (bins on the last axis)."""
    r, c = np.clip(ref, _EPS, None), np.clip(cur, _EPS, None)
    return ((c - r) * np.log(c / r)).sum(axis=-1)


def compare(reference: np.ndarray, current: np.ndarray, bins: int = BINS) -> FeatureDrift:
    """Every statistic of every feature, the reference (n, F) against the current (m, F);
    rows with a missing value are left out of both."""
    reference = reference[np.isfinite(reference).all(axis=1)]
    current = current[np.isfinite(current).all(axis=1)]
    features = reference.shape[1]
    if len(reference) < 2 or len(current) < 2:
        nan = np.full(features, np.nan)
        empty = np.zeros((features, bins))
        return FeatureDrift(nan, nan, nan, nan, empty, empty)
    edges = quantile_edges(reference, bins)
    ref_shares, cur_shares = bin_shares(reference, edges), bin_shares(current, edges)
    # the exact p-value costs ~n·m: beyond a million pairs the asymptotic one (scipy's own
    # choice past 10,000 values), within 0.008 of it at 1,000 × 1,500-4,000 (docs/ml.md)
    exact = len(reference) * len(current) <= EXACT_KS_PAIRS
    test = stats.ks_2samp(reference, current, axis=0, method="auto" if exact else "asymp")
    low, high = reference.min(axis=0), reference.max(axis=0)
    outside = ((current < low) | (current > high)).mean(axis=0)
    return FeatureDrift(
        psi=psi_of_shares(ref_shares, cur_shares),
        ks=np.asarray(test.statistic, float),
        p_value=np.asarray(test.pvalue, float),
        out_of_range=outside,
        reference_shares=ref_shares,
        current_shares=cur_shares,
    )
