"""Choosing the alarm policy on the training units alone: the horizon H ("fails within H
hours"), where the probability comes from, and the threshold that raises the alarm.

How far ahead a failure shows in the sensors is a property of the machines, not of the
product: the simulator's faults ramp over 3–6 h, a pump's wear over days. A horizon shorter
than the warning the data gives makes alarms late or noisy (NASA's pump: at H = 6 h they
caught 30–60 % of failures 2 h ahead); a longer one makes "fails within H" say less. So when
asked (``Params.choose_horizon``), training tries each candidate on out-of-fold scores: for
every H, forests of a few trees learn on four fifths of the units and score the fifth they
never saw (folds are whole units; on the columns the product's forests will see, chosen
before, ``ml.families.ForestColumns``), the scores are calibrated, and the live alarm logic is
replayed on them (``ml.alarm_metrics.window_alarm_metrics``). This is done for three groupings
of the units into folds and the replays' counts are pooled: on one grouping, which units
happened to share a fold could move the pick between neighbouring thresholds (docs/ml.md, "The
alarm policy"). The chosen candidate is the one
that comes closest to both targets, ≥ 90 % of failures caught 2 h ahead and ≥ 80 % of alarms
followed by a failure within H (the worse of the two ratios; a tie goes to the classifier,
the lower threshold, the shorter H). No test data is seen.

Each H is tried with two sources of the probability: the forest that learns "fails within
H" (a classifier, ``"classifier"``), and the forest that learns the remaining life, whose
estimate is calibrated into a probability of failing within H (``"rul"``). The second is
smoother in time, since a regression averages the trees' hours where a classifier counts
their votes, so its first crossing of the threshold comes later and less often by chance.

Each source is replayed at the product's threshold, 0.8, and at 0.85 and 0.9. Where a
failure shows a day ahead, the first alarms at 0.8 come half a day before the failure and
some more than H before it; a higher threshold raises later, with lead to spare for the
2 h that recall asks (docs/ml.md, "The alarm policy", has what it did on the development
fleets). The threshold is never below 0.8, and the probability stays calibrated: the bar
moves, not what the number means.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from ml.alarm_metrics import AlarmMetrics, window_alarm_metrics
from ml.alarm_policy import CLEAR_RATIO, FAILURE_THRESHOLD
from ml.calibration import Calibrator
from ml.trees import near_failure_weight, positive_probability, rul_out_of_fold, unit_folds

__all__ = [
    "ALARM_THRESHOLDS",
    "HORIZONS_H",
    "PROBABILITY_SOURCES",
    "RECALL_TARGET",
    "PRECISION_TARGET",
    "choose_horizon",
]

HORIZONS_H = (6.0, 12.0, 18.0, 24.0)  # the candidates, each at most the RUL cap
PROBABILITY_SOURCES = ("classifier", "rul")  # in order of preference on a tie
# the failure alarm's threshold: the product's 0.8 or higher, where the training units say
# alarms at 0.8 would too often come more than H before a failure
ALARM_THRESHOLDS = (FAILURE_THRESHOLD, 0.85, 0.9)
RECALL_TARGET, PRECISION_TARGET = 0.9, 0.8
_FOLDS = 5
_FOREST = {"n_estimators": 30, "min_samples_leaf": 3, "n_jobs": 2}
# at most this many windows take part (every k-th, in each unit's time order): a simulated
# fleet of 20 machines x 7 days has 40,000 (the choice then took minutes); scoring every
# 15 minutes instead of every 5 still sees each alarm
_MAX_WINDOWS = 12_000
# groupings of the units into folds whose replays are pooled: with one, which units happened
# to share a fold moved a fleet's chosen threshold, and its precision by up to 20 points
_PARTITIONS = 3


def choose_horizon(
    x: np.ndarray,
    *,
    units: np.ndarray,
    ends: np.ndarray,
    ttf_h: np.ndarray,
    fail_known: Callable[[float], np.ndarray],
    rul_known: np.ndarray,
    rul_cap_h: float,
    failures: pd.DataFrame,
    candidates: Sequence[float] = HORIZONS_H,
    seed: int = 7,
    thresholds: Sequence[float] = ALARM_THRESHOLDS,
) -> tuple[float, str, float, dict]:
    """(chosen H, chosen probability source, chosen alarm threshold, the out-of-fold alarm
    metrics of every candidate). ``x``: window features of the training windows;
    ``fail_known(H)``: whether "fails within H" is known per window; ``rul_known``: whether
    the capped remaining life is. Fewer than three units: the first H, the classifier and
    the first threshold, untried."""
    first = float(candidates[0] if len(candidates) else 6.0)
    untried: tuple[float, str, float, dict] = (
        first,
        PROBABILITY_SOURCES[0],
        float(thresholds[0]),
        {},
    )
    k = min(_FOLDS, len(np.unique(units)))
    if k < 3 or not len(candidates):
        return untried
    rows = np.arange(0, len(x), -(-len(x) // _MAX_WINDOWS))
    x, units, ends, ttf_h = x[rows], units[rows], ends[rows], ttf_h[rows]
    capped = np.minimum(ttf_h, rul_cap_h)
    weight = near_failure_weight(ttf_h)
    partitions = _partitions(seed)
    ruls = [
        rul_out_of_fold(
            x, capped, rul_known[rows], units, k, seed, _FOREST["n_estimators"], weight, p
        )
        for p in partitions
    ]
    tried: dict[str, dict] = {}
    for h in candidates:
        known = fail_known(h)[rows]
        label = ttf_h <= h
        if len(np.unique(label[known])) < 2:
            continue
        by_source = {
            "classifier": _every(
                _out_of_fold(x, label, known, units, k, seed, p) for p in partitions
            ),
            "rul": _every(
                None if rul is None else Calibrator.fit(-rul[known], label[known])(-rul)
                for rul in ruls
            ),
        }
        metrics = {
            (source, t): _replayed(probs, units, ends, failures, h, t)
            for source, probs in by_source.items()
            if probs is not None
            for t in thresholds
        }
        if metrics:  # the best pair at this H; a tie: the classifier, the lower threshold
            source, t = max(
                metrics,
                key=lambda o: (
                    round(metrics[o]["score"], 3),
                    -PROBABILITY_SOURCES.index(o[0]),
                    -o[1],
                ),
            )
            tried[f"{h:g}"] = metrics[(source, t)] | {
                "source": source,
                "threshold": t,
                "candidates": {f"{o} at {th:g}": m for (o, th), m in metrics.items()},
            }
    if not tried:
        return untried
    best = max(tried, key=lambda h: (round(tried[h]["score"], 3), -float(h)))
    source, threshold = tried[best]["source"], float(tried[best]["threshold"])
    return (
        float(best),
        source,
        threshold,
        {
            "horizon_choice": tried,
            "horizon_h": float(best),
            "probability_source": source,
            "alarm_threshold": threshold,
        },
    )


def _partitions(seed: int) -> list[int | None]:
    """The groupings of the units into folds the replay is pooled over: scikit-learn's
    default, then ``_PARTITIONS - 1`` shuffled by seeds drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return [None, *(int(s) for s in rng.integers(0, 2**31, _PARTITIONS - 1))]


def _every(probs: Iterable[np.ndarray | None]) -> list[np.ndarray] | None:
    """Every grouping's probabilities, or None where one grouping has none (one class)."""
    out = []
    for prob in probs:
        if prob is None:
            return None
        out.append(prob)
    return out


def _replayed(
    probs: Sequence[np.ndarray],
    units: np.ndarray,
    ends: np.ndarray,
    failures: pd.DataFrame,
    h: float,
    threshold: float,
) -> dict:
    """The live alarm logic replayed on each partition's out-of-fold probabilities, the
    counts pooled: recall, precision and how close they come to the targets."""
    pooled = AlarmMetrics(failures=0, caught=0, raised=0, true=0)
    for prob in probs:
        m = window_alarm_metrics(
            units,
            ends,
            prob,
            failures,
            horizon_h=h,
            threshold=threshold,
            clear_below=FAILURE_THRESHOLD * CLEAR_RATIO,  # the live default, at every threshold
        )
        pooled.failures += m["failures"]
        pooled.caught += m["caught"]
        pooled.raised += m["raised"]
        pooled.true += m["true_raises"]
    return {
        "recall": _finite(pooled.recall),
        "precision": _finite(pooled.precision),
        "score": _closeness(pooled.recall, pooled.precision),
    }


def _closeness(recall: float, precision: float) -> float:
    """How near both targets are: the worse of recall/0.9 and precision/0.8 (≥ 1: both met)."""
    if math.isnan(recall) or math.isnan(precision):
        return 0.0
    return min(recall / RECALL_TARGET, precision / PRECISION_TARGET)


def _finite(v: float) -> float | None:
    return None if math.isnan(v) else round(v, 4)


def _out_of_fold(
    x: np.ndarray,
    label: np.ndarray,
    known: np.ndarray,
    units: np.ndarray,
    k: int,
    seed: int,
    partition: int | None,
) -> np.ndarray | None:
    """Every window's calibrated probability of "fails within H" from forests that never saw
    its unit (fitted on known labels only; folds grouped by ``partition``); None when the
    labels have one class."""
    if len(np.unique(label[known])) < 2:
        return None
    raw = np.zeros(len(x))
    for train, test in unit_folds(k, partition).split(x, label, units):
        train = train[known[train]]
        if len(np.unique(label[train])) < 2:
            return None
        forest = RandomForestClassifier(random_state=seed, **_FOREST)
        forest.fit(x[train], label[train])
        raw[test] = positive_probability(forest, x[test])
    return Calibrator.fit(raw[known], label[known])(raw)
