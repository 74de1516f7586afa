"""When a score series raises alarms: the same hysteresis as the live scoring job, as a pure
function so evaluation and backtests replay exactly what production would have done."""

from __future__ import annotations

import numpy as np

__all__ = ["alarm_raises"]


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
