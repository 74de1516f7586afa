"""Retention: raw readings older than a limit are removed once their ten-minute rollups
(count, mean, min, max per sensor) are complete; rollups older than a second limit go too.

Works a day at a time, one transaction per day (roll up, then delete), so a crash loses
nothing and the progress can be shown. Plain SQL on SQLite and PostgreSQL; on TimescaleDB
the same SQL runs on the hypertable (its native compression and retention policies are not
used yet). A reading that arrives late for a day already removed is removed with it (the
ingest refuses readings older than ``PDM_MAX_READING_AGE_DAYS`` anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from data.db import Database
from data.models import Reading, ReadingRollup
from data.rollup import floor_bucket, roll_up

__all__ = ["RetentionOutcome", "apply_retention"]

_DAY = timedelta(days=1)


@dataclass(slots=True)
class RetentionOutcome:
    days: int = 0  # days of raw readings rolled up and removed
    readings_removed: int = 0
    rollups_removed: int = 0


def apply_retention(
    *,
    db: Database,
    now: datetime,
    raw_days: int,
    rollup_days: int,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionOutcome:
    """Remove raw readings older than ``raw_days`` (after rolling them up) and rollups
    older than ``rollup_days`` (0: keep). ``progress(done, total)`` after each day."""
    outcome = RetentionOutcome()
    cutoff = floor_bucket(now - timedelta(days=raw_days))
    with db.session() as s:
        oldest = s.scalar(select(func.min(Reading.ts)))
    if oldest is not None and oldest < cutoff:
        day = floor_bucket(oldest)
        total = -(-(cutoff - day) // _DAY)
        while day < cutoff:
            stop = min(day + _DAY, cutoff)
            with db.session() as s:
                roll_up(s, day, stop)
                gone = s.execute(delete(Reading).where(Reading.ts >= day, Reading.ts < stop))
                outcome.readings_removed += gone.rowcount or 0
            outcome.days += 1
            if progress:
                progress(outcome.days, total)
            day = stop
    if rollup_days:
        with db.session() as s:
            old = ReadingRollup.bucket < now - timedelta(days=rollup_days)
            outcome.rollups_removed = s.execute(delete(ReadingRollup).where(old)).rowcount or 0
    return outcome
