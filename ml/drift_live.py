"""The live side of a drift check: the recent period's readings (bucketed per step, as the
score job reads them) cut into windows, their features against the active model's baseline,
and every statistic of ``ml.drift`` per machine type against the model's stored reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ml.drift import BINS, FeatureDrift, bin_shares, compare, psi_of_shares, quantile_edges
from ml.drift_reference import PREDICTIONS, Reference
from ml.features import RECENT_STEPS, Baseline, window_features

__all__ = [
    "MACHINE_FEATURES",
    "LiveWindows",
    "MachineDrift",
    "TypeDrift",
    "grid_windows",
    "machine_drift",
    "period_windows",
    "type_drift",
]

MACHINE_FEATURES = ("level", "recent")  # per sensor: what a machine's own check compares


@dataclass(frozen=True, slots=True)
class LiveWindows:
    """Complete windows of the period: raw values (n, W, S), each one's machine type and
    machine id, and per type the share of (machine, step) cells missing per sensor."""

    x3: np.ndarray
    types: np.ndarray
    machine_ids: np.ndarray
    missing: dict[str, np.ndarray]
    # the period's grid: every machine's raw values per step (M, steps, S), ids and types
    grid: np.ndarray | None = None
    grid_ids: np.ndarray | None = None
    grid_types: np.ndarray | None = None
    window: int = 0
    stride: int = 1


@dataclass(frozen=True, slots=True)
class TypeDrift:
    """One type's drift: the input features' and the scores' statistics (names in order:
    the features, then ``PREDICTIONS``), how many windows and scorings were compared, the
    missing share per feature (NaN for scores), and the machine that moved most per feature."""

    machine_type: str
    names: tuple[str, ...]
    drift: FeatureDrift
    n_current: np.ndarray
    missing: np.ndarray
    worst_machine: np.ndarray


def period_windows(
    frame: pd.DataFrame,
    *,
    sensors: tuple[str, ...],
    window: int,
    stride: int,
    first_bucket: int,
    last_bucket: int,
    max_per_type: int | None = None,
    seed: int = 0,
) -> LiveWindows:
    """``grid_windows`` of a frame of bucketed readings (machine_id, type, kind, bucket,
    value: ``data.readings.bucketed_readings``) put on the grid of [first, last] bucket."""
    # plain arrays and category codes: the fleet's day is millions of rows, and masking or
    # mapping a pyarrow string column of that size takes seconds
    codes, names = pd.factorize(frame["kind"])
    kind = np.array([sensors.index(n) if n in sensors else -1 for n in names], int)[codes]
    bucket = frame["bucket"].to_numpy(np.int64)
    keep = np.flatnonzero((kind >= 0) & (bucket >= first_bucket) & (bucket <= last_bucket))
    machine = frame["machine_id"].to_numpy(np.int64)[keep]
    ids, first = np.unique(machine, return_index=True)
    types = frame["type"].iloc[keep[first]].to_numpy(str)
    steps = last_bucket - first_bucket + 1
    grid = np.full((len(ids), steps, len(sensors)), np.nan)
    grid[np.searchsorted(ids, machine), bucket[keep] - first_bucket, kind[keep]] = frame[
        "value"
    ].to_numpy(float)[keep]
    return grid_windows(
        grid, ids, types, window=window, stride=stride, max_per_type=max_per_type, seed=seed
    )


def grid_windows(
    grid: np.ndarray,
    ids: np.ndarray,
    types: np.ndarray,
    *,
    window: int,
    stride: int,
    max_per_type: int | None = None,
    seed: int = 0,
) -> LiveWindows:
    """Windows of ``window`` steps ending every ``stride`` steps (the last at the grid's
    last step) of every machine's rows of ``grid`` (machines, steps, sensors; NaN where no
    reading arrived), machine ids ``ids`` and types ``types``; a window with a missing step
    is left out (counted in ``missing``). With ``max_per_type``, at most that many windows
    of each type, drawn at random: the statistics need a few thousand, and a thousand
    machines' day holds a quarter million."""
    steps, sensors = grid.shape[1], grid.shape[2]
    missing = {str(t): np.isnan(grid[types == t]).mean(axis=(0, 1)) for t in np.unique(types)}
    whole = (grid, ids, types, window, stride)
    if steps < window or len(ids) == 0:
        empty = np.zeros((0, window, sensors))
        return LiveWindows(empty, np.array([], str), np.array([], int), missing, *whole)
    view = sliding_window_view(grid, window, axis=1)  # (M, steps - W + 1, S, W)
    ends = np.arange(view.shape[1] - 1, -1, -stride)[::-1]
    rows, at = _pick(types, len(ends), max_per_type, np.random.default_rng(seed))
    x3 = np.transpose(view[rows, ends[at]], (0, 2, 1))  # only the picked windows are copied
    complete = ~np.isnan(x3).any(axis=(1, 2))
    return LiveWindows(x3[complete], types[rows][complete], ids[rows][complete], missing, *whole)


def _pick(
    types: np.ndarray, per_machine: int, most: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(machine row, end index) of every window, or of ``most`` per type at random."""
    machines, ends = [], []
    for kind in np.unique(types):
        rows = np.flatnonzero(types == kind)
        total = len(rows) * per_machine
        flat = np.arange(total)
        if most is not None and total > most:
            flat = np.sort(rng.choice(total, size=most, replace=False))
        machines.append(rows[flat // per_machine])
        ends.append(flat % per_machine)
    return np.concatenate(machines), np.concatenate(ends)


def type_drift(
    *,
    reference: Reference,
    baseline: Baseline,
    live: LiveWindows,
    scores: pd.DataFrame,
    machine_type: str,
) -> TypeDrift | None:
    """The type's drift against its reference (None: the reference has no such type).
    ``scores``: the period's scorings of the type's machines (machine_id and the columns of
    ``PREDICTIONS``)."""
    ref = reference.by_type.get(machine_type)
    if ref is None:
        return None
    rows = live.types == machine_type
    feats = window_features(live.x3[rows], live.types[rows], baseline)
    ids = live.machine_ids[rows]
    parts = [compare(ref.features, feats)]
    worst = [_worst_machine(ref.features, feats, ids)]
    counts = [np.full(feats.shape[1], len(feats))]
    for i, name in enumerate(PREDICTIONS):
        current = scores[[name]].dropna().to_numpy(float)
        parts.append(compare(ref.scores[:, [i]], current))
        worst.append(_worst_machine(ref.scores[:, [i]], current, scores[name].dropna().index))
        counts.append(np.array([len(current)]))
    missing = live.missing.get(machine_type, np.full(len(baseline.sensors), np.nan))
    per_feature_missing = _feature_missing(reference.feature_names, baseline.sensors, missing)
    return TypeDrift(
        machine_type,
        reference.feature_names + PREDICTIONS,
        _concat(parts),
        np.concatenate(counts),
        np.concatenate([per_feature_missing, [np.nan] * len(PREDICTIONS)]),
        np.concatenate(worst),
    )


def _worst_machine(reference: np.ndarray, current: np.ndarray, ids: object) -> np.ndarray:
    """Per feature, the machine whose median sits furthest from the reference's median, in
    reference spreads (-1: no current values)."""
    if len(current) == 0:
        return np.full(reference.shape[1], -1)
    ids = np.asarray(ids)
    medians = pd.DataFrame(current).groupby(ids).median()
    scale = reference.std(axis=0).clip(min=1e-9)
    shift = ((medians - np.median(reference, axis=0)) / scale).abs()
    return shift.idxmax(axis=0).to_numpy(int)


def _feature_missing(
    names: tuple[str, ...], sensors: tuple[str, ...], missing: np.ndarray
) -> np.ndarray:
    """A feature's missing share is its sensor's (features are named ``<sensor>_<what>``)."""
    by_sensor = dict(zip(sensors, missing, strict=True))
    return np.array([by_sensor.get(n.split("_")[0], np.nan) for n in names], float)


def _concat(parts: list[FeatureDrift]) -> FeatureDrift:
    return FeatureDrift(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in FeatureDrift.__slots__)
    )


@dataclass(frozen=True, slots=True)
class MachineDrift:
    """Each machine's own drift against its type's reference: PSI (M, F) of the features
    ``names`` (each sensor's level and recent level) over every complete window of the
    period, how many windows each machine had, and the machines' ids and types."""

    names: tuple[str, ...]
    psi: np.ndarray
    windows: np.ndarray
    machine_ids: np.ndarray
    types: np.ndarray


def machine_drift(
    *, reference: Reference, baseline: Baseline, live: LiveWindows, bins: int = BINS
) -> MachineDrift | None:
    """PSI of every machine's window levels against its type's reference, for every
    machine of a type the reference knows (None: no grid, or no such machine).

    A machine's level features are the window means of its standardised values, taken for
    every window of the period (the job's stride) by cumulative sums over the grid: the same
    numbers as ``window_features`` (tested), at a fraction of its cost, so a thousand
    machines' every window fits in the check."""
    if live.grid is None or live.grid_ids is None or live.grid_types is None:
        return None
    known = np.isin(live.grid_types, list(reference.by_type))
    grid, types, ids = live.grid[known], live.grid_types[known], live.grid_ids[known]
    steps = grid.shape[1]
    if len(grid) == 0 or steps < live.window:
        return None
    columns, names = _machine_columns(reference.feature_names, baseline.sensors)
    m, s = baseline.arrays(types)
    z = (grid - m) / s  # (M, steps, S)
    gaps = np.concatenate([np.zeros((len(z), 1, z.shape[2])), np.isnan(z).cumsum(axis=1)], 1)
    sums = np.concatenate([np.zeros((len(z), 1, z.shape[2])), np.nan_to_num(z).cumsum(1)], 1)
    ends = np.arange(steps, live.window - 1, -live.stride)[::-1]  # one past each window

    def mean_over(width: int) -> tuple[np.ndarray, np.ndarray]:
        total = sums[:, ends] - sums[:, ends - width]
        holes = gaps[:, ends] - gaps[:, ends - width]
        return total / width, holes > 0

    level, level_gap = mean_over(live.window)
    recent, _ = mean_over(RECENT_STEPS)
    values = np.stack([level, recent], axis=3).reshape(len(z), len(ends), -1)  # (M, K, S*2)
    complete = np.asarray(
        ~level_gap.any(axis=2)
    )  # (M, K): a window with a missing step is left out
    psi = np.full((len(z), len(names)), np.nan)
    for kind in np.unique(types):
        rows = types == kind
        ref = reference.by_type[str(kind)].features[:, columns]
        ref = ref[np.isfinite(ref).all(axis=1)]
        if len(ref) < 2:
            continue
        edges = quantile_edges(ref, bins)
        ref_shares = bin_shares(ref, edges)  # (F, B)
        psi[rows] = _machine_psi(values[rows], complete[rows], edges, ref_shares)
    return MachineDrift(names, psi, complete.sum(axis=1), ids, types)


def _machine_columns(
    feature_names: tuple[str, ...], sensors: tuple[str, ...]
) -> tuple[list[int], tuple[str, ...]]:
    """The reference's columns of each sensor's ``MACHINE_FEATURES``, in the order the
    cumulative sums produce them (sensor by sensor)."""
    names = tuple(f"{s}_{f}" for s in sensors for f in MACHINE_FEATURES)
    return [feature_names.index(n) for n in names], names


def _machine_psi(
    values: np.ndarray, complete: np.ndarray, edges: np.ndarray, ref_shares: np.ndarray
) -> np.ndarray:
    """PSI per machine and feature: ``values`` (M, K, F) with ``complete`` (M, K) against
    the reference's shares (F, B) on ``edges`` (B - 1, F)."""
    machines, _, features = values.shape
    bins = edges.shape[0] + 1
    index = (values[..., None, :] > edges).sum(axis=-2)  # (M, K, F) in [0, B)
    flat = (np.arange(machines)[:, None, None] * features + np.arange(features)) * bins + index
    counts = np.bincount(flat[complete].ravel(), minlength=machines * features * bins)
    counts = counts.reshape(machines, features, bins)
    shares = counts / np.maximum(complete.sum(axis=1), 1)[:, None, None]
    return psi_of_shares(ref_shares[None], shares)
