"""The alarm policy of the model scores, as pure values and functions: when a failure
probability or an anomaly score raises an alarm, how long it is held and when it clears.
Live scoring (``maintenance.alarming.prediction_alarms``), the replays of evaluation and the model
lab (``ml.alarm_metrics``, ``ml.lab.replay``) and threshold tuning all read it from here, so they
decide exactly what production decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

__all__ = [
    "ANOMALY_CLEAR_BELOW",
    "ANOMALY_SUSTAINED",
    "CLEAR_RATIO",
    "FAILURE_THRESHOLD",
    "PredictionPolicy",
    "alarm_raises",
    "anomaly_clear_below",
    "live_hysteresis",
]

FAILURE_THRESHOLD = 0.8  # failure probability that raises the CRITICAL alarm
ANOMALY_CLEAR_BELOW = 0.5
CLEAR_RATIO = 0.75  # the failure alarm's default: clears below 0.6 for a 0.8 threshold
# the anomaly warning is raised only after this many consecutive scorings over the threshold
ANOMALY_SUSTAINED = 6


def anomaly_clear_below(threshold: float) -> float:
    """Where an anomaly warning stops being held: 0.5, or three quarters of a threshold
    under 0.67, so the hold always sits below the threshold that raised it."""
    return min(ANOMALY_CLEAR_BELOW, threshold * CLEAR_RATIO)


@dataclass(frozen=True, slots=True)
class PredictionPolicy:
    """The thresholds and hysteresis of the failure and anomaly alarms (the worker fills it
    from the settings)."""

    failure_threshold: float = FAILURE_THRESHOLD
    failure_clear_below: float = FAILURE_THRESHOLD * CLEAR_RATIO
    anomaly_threshold: float = 0.7  # on the anomaly score, raise
    anomaly_sustained: int = ANOMALY_SUSTAINED  # consecutive scorings over the threshold
    clear_after: timedelta = timedelta(minutes=1)

    @property
    def anomaly_clear_below(self) -> float:
        """Held while the score stays at or above this (``anomaly_clear_below``)."""
        return anomaly_clear_below(self.anomaly_threshold)


def live_hysteresis(column: str, threshold: float) -> tuple[float, int]:
    """(clear_below, sustained) of the live alarm on this score column at ``threshold``.
    The failure alarm keeps its default ratio (0.6 for 0.8) at every threshold, so a slider
    position means the same hysteresis everywhere."""
    if column == "anomaly":
        return anomaly_clear_below(threshold), ANOMALY_SUSTAINED
    return threshold * CLEAR_RATIO, 1


def alarm_raises(
    times: np.ndarray,
    values: np.ndarray,
    *,
    threshold: float,
    clear_below: float,
    clear_after_s: float,
) -> list[float]:
    """Times at which an alarm is raised: ``values`` reaches ``threshold`` while no alarm is
    active; an active alarm clears once values stay below ``clear_below`` for
    ``clear_after_s`` seconds. ``times`` are epoch seconds, ascending."""
    raises: list[float] = []
    active, below_since = False, None
    for t, v in zip(times, values, strict=True):
        if not active:
            if v >= threshold:
                active, below_since = True, None
                raises.append(float(t))
            continue
        if v >= clear_below:
            below_since = None
        elif below_since is None:
            below_since = t
        elif t - below_since >= clear_after_s:
            active = False
    return raises
