"""Values stored at a sensor kind's resolution, on a power-of-two step (``PDM_STORE_RESOLUTION``).

A sensor sends more decimals than it resolves (noise, unit conversion). Stored as sent, each
value carries a full float's worth of bits, and TimescaleDB's float compression (the XOR of
successive values) keeps about 8 bytes a reading. On a power-of-two step at or below the
sensor's resolution, the values' low bits are zeros and a reading compresses to about 2 bytes
(``python -m bench.storage``). A stored value is then within half a step (less than half the
resolution) of the one sent. A decimal step (0.01) would not help: 0.01 has no exact binary
form, so its multiples keep their low bits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["binary_step", "on_step", "StepTable"]


def binary_step(resolution: float) -> float:
    """The largest power of two not above ``resolution`` (0.01 -> 1/128)."""
    return 2.0 ** math.floor(math.log2(resolution))


def on_step(values: np.ndarray | float, step: np.ndarray | float) -> np.ndarray | float:
    """``values`` on multiples of ``step`` (round half to even): the one formula ingest and the
    backfill store with, so a value stored by either is the same."""
    return np.round(values / step) * step


class StepTable:
    """Sensor id -> the step its values are stored on (sensors of a kind without a
    resolution, or unknown to the table, keep their values as sent)."""

    def __init__(self, steps: Mapping[int, float]) -> None:
        self._steps = dict(steps)
        size = max(self._steps, default=-1) + 1
        self._table = np.zeros(size, dtype=np.float64)
        for sid, step in self._steps.items():
            self._table[sid] = step

    @classmethod
    def of_kinds(cls, kinds: Mapping[int, str], resolution: Mapping[str, float]) -> StepTable:
        """From each sensor's kind and the resolution per kind."""
        return cls({sid: binary_step(resolution[k]) for sid, k in kinds.items() if k in resolution})

    def __bool__(self) -> bool:
        return bool(self._steps)

    def apply(self, sensor_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The values on their sensors' steps (round half to even), the others as they are."""
        if not self._steps or not len(values):
            return values
        inside = sensor_ids < len(self._table)
        step = np.zeros(len(values), dtype=np.float64)
        step[inside] = self._table[sensor_ids[inside]]
        on = step > 0
        out = values.copy()
        out[on] = on_step(values[on], step[on])
        return out

    def value(self, sensor_id: int, value: float) -> float:
        """One value on its sensor's step."""
        step = self._steps.get(sensor_id)
        return value if step is None else float(on_step(value, step))
