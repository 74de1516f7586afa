"""Which warning and critical limits the threshold rules would have seen broken around a
fault of a bulk history (``simulator.bulk_history``): the samples of a window of ticks are
gathered as chunks stream by (``Window``), then ``crossings`` judges their moving means against
each sensor's limits. Like the rest of the simulator, this imports nothing of the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.bulk_history import Chunk
from simulator.fleet_physics import SensorDef

__all__ = ["Crossing", "Window", "crossings"]


@dataclass(frozen=True, slots=True)
class Crossing:
    """A limit the threshold rules would have seen broken by a sensor's window mean: first at
    tick ``raised`` (warning, or critical if the sensor has no warning limit), last at
    ``last_seen``; ``critical`` when the critical limit was broken too (the alarm escalated)."""

    sensor: SensorDef
    side: str  # HIGH | LOW
    critical: bool
    raised: int
    last_seen: int
    value: float  # the most extreme window mean
    limit: float  # the limit of the final severity


@dataclass(slots=True)
class Window:
    """The samples of ticks ``start`` … ``stop - 1``, gathered as chunks stream by."""

    start: int
    stop: int
    parts: list[np.ndarray] = field(default_factory=list)

    def feed(self, chunk: Chunk) -> None:
        lo = max(self.start, chunk.start) - chunk.start
        hi = min(self.stop, chunk.start + chunk.ts_us.size) - chunk.start
        if lo < hi:
            self.parts.append(chunk.values[:, lo:hi])

    def values(self) -> np.ndarray:
        return np.concatenate(self.parts, axis=1)


def crossings(window: Window, sensors: tuple[SensorDef, ...], *, mean_ticks: int) -> list[Crossing]:
    """Every limit broken by the mean of ``mean_ticks`` consecutive samples, first raised first."""
    values = window.values()
    mean_ticks = max(1, min(mean_ticks, values.shape[1]))
    kernel = np.ones(mean_ticks) / mean_ticks
    out = []
    for sensor, series in zip(sensors, values, strict=True):
        means = np.convolve(series, kernel, mode="valid")
        first = window.start + mean_ticks - 1
        for side, warn, crit in (
            ("HIGH", sensor.warn_high, sensor.crit_high),
            ("LOW", sensor.warn_low, sensor.crit_low),
        ):
            hit = _crossing(sensor, side, warn, crit, means, first)
            if hit is not None:
                out.append(hit)
    return sorted(out, key=lambda c: c.raised)


def _crossing(
    sensor: SensorDef,
    side: str,
    warn: float | None,
    crit: float | None,
    means: np.ndarray,
    first: int,
) -> Crossing | None:
    sign = 1.0 if side == "HIGH" else -1.0  # judge LOW limits as HIGH ones on negated values
    lowest = warn if warn is not None else crit
    if lowest is None:
        return None
    broken = np.flatnonzero(sign * means >= sign * lowest)
    if broken.size == 0:
        return None
    critical = crit is not None and bool((sign * means >= sign * crit).any())
    worst = float(means[np.argmax(sign * means)])
    limit = float(crit if critical and crit is not None else lowest)
    return Crossing(
        sensor, side, critical, first + int(broken[0]), first + int(broken[-1]), worst, limit
    )
