"""The context of each machine's current life for live scoring (``ml.inputs.Context``): its
age since it was added or last repaired, and its sensors' means over the first W steps of
that life, read from the database once per life and kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from data.fleet_queries import life_starts
from data.readings import sensor_means
from ml.inputs import Context

__all__ = ["LifeContext"]


class LifeContext:
    """``window_s``: wall seconds of W steps; ``scale``: model seconds per wall second."""

    def __init__(self, *, window_s: float, scale: float) -> None:
        self.window_s, self.scale = window_s, scale
        self._early: dict[tuple[int, datetime], np.ndarray] = {}

    def __call__(
        self, session: Session, ids: np.ndarray, sensors: tuple[str, ...], now: datetime
    ) -> Context:
        starts = life_starts(session=session)
        ages, early = [], []
        for machine_id in (int(i) for i in ids):
            start = _utc(starts.get(machine_id, now))
            ages.append(max((now - start).total_seconds(), 0.0) * self.scale / 3600)
            early.append(self._levels(session, machine_id, start, sensors, now))
        shape = (len(ages), len(sensors))
        return Context(np.array(ages), np.array(early).reshape(shape))

    def _levels(
        self,
        session: Session,
        machine_id: int,
        start: datetime,
        sensors: tuple[str, ...],
        now: datetime,
    ) -> np.ndarray:
        key = (machine_id, start)
        if key in self._early:
            return self._early[key]
        end = start + timedelta(seconds=self.window_s)
        means = sensor_means(session=session, machine_id=machine_id, start=start, end=min(end, now))
        levels = np.array([means.get(s, np.nan) for s in sensors])
        if end <= now and not np.isnan(levels).any():  # a whole early life: it never changes
            self._early[key] = levels
        return levels


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)
