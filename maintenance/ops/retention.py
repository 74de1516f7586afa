"""Retention: raw readings older than a limit are removed once their ten-minute rollups
(count, mean, min, max per sensor) are complete; rollups older than a second limit go too.

Works a day at a time, one transaction per day (roll up, then delete), so a crash loses
nothing and the progress can be shown. Plain SQL on SQLite and PostgreSQL. On TimescaleDB
(``data.timescale`` state ``active``) the continuous aggregates already hold the days' buckets
(their refresh windows end where retention starts, so what is dropped stays aggregated), and
whole chunks older than the limit are dropped instead of deleting rows (deleting from
compressed chunks would decompress them); the aggregates' own chunks older than the rollup
limit go the same way. The job also keeps the server's compression, retention and refresh
policies in line with the settings. That retention policy waits a day longer than the job, so
it only acts when no worker does. A reading that
arrives late for a day already removed is removed with it (the ingest refuses readings older
than ``PDM_MAX_READING_AGE_DAYS`` anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, func, select, text

from data.db import Database
from data.models import Reading, ReadingRollup
from data.rollup import floor_bucket, roll_up
from data.timescale import AGGREGATES, set_policies, timescale_state

__all__ = ["RetentionOutcome", "apply_retention", "sync_timescale_policies"]

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
    compress_after_days: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionOutcome:
    """Remove raw readings older than ``raw_days`` (after rolling them up) and rollups
    older than ``rollup_days`` (0: keep). ``progress(done, total)`` after each day."""
    outcome = RetentionOutcome()
    chunks = sync_timescale_policies(
        db=db, raw_days=raw_days, compress_after_days=compress_after_days
    )
    cutoff = floor_bucket(now - timedelta(days=raw_days))
    with db.session() as s:
        oldest = s.scalar(select(func.min(Reading.ts)))
    if oldest is not None and oldest < cutoff:
        day = floor_bucket(oldest)
        total = -(-(cutoff - day) // _DAY)
        while day < cutoff:
            stop = min(day + _DAY, cutoff)
            with db.session() as s:
                if not chunks:  # (TimescaleDB: the continuous aggregates hold it)
                    roll_up(s, day, stop)
                    drop = delete(Reading).where(Reading.ts >= day, Reading.ts < stop)
                    outcome.readings_removed += _removed(s.execute(drop))
            outcome.days += 1
            if progress:
                progress(outcome.days, total)
            day = stop
        if chunks:
            outcome.readings_removed = _drop_chunks(db, cutoff)
    if rollup_days:
        with db.session() as s:
            old = ReadingRollup.bucket < now - timedelta(days=rollup_days)
            outcome.rollups_removed = _removed(s.execute(delete(ReadingRollup).where(old)))
        if chunks:
            _drop_aggregate_chunks(db, now - timedelta(days=rollup_days))
    return outcome


def _removed(result: Result[Any]) -> int:
    """The rows a DELETE removed: it gives a CursorResult, typed as a plain Result
    (sqlalchemy#12913)."""
    return cast(CursorResult[Any], result).rowcount or 0


def sync_timescale_policies(*, db: Database, raw_days: int, compress_after_days: int) -> bool:
    """On TimescaleDB, set its compression (0: none), retention and aggregate refresh
    policies from the settings and return True; elsewhere return False (the job does it all
    by hand)."""
    with db.engine.begin() as conn:
        if timescale_state(conn) != "active":
            return False
        compress = timedelta(days=compress_after_days) if compress_after_days else None
        set_policies(
            conn,
            compress_after=compress,
            drop_after=timedelta(days=raw_days + 1),
            refresh_from=timedelta(days=raw_days),
        )
    return True


def _drop_chunks(db: Database, cutoff: datetime) -> int:
    """Drop the chunks entirely older than ``cutoff``; the number of readings they held."""
    older = select(func.count()).select_from(Reading).where(Reading.ts < cutoff)
    with db.session() as s:
        before = s.scalar(older) or 0
        s.execute(text("SELECT drop_chunks('readings', older_than => :t)"), {"t": cutoff})
        return before - (s.scalar(older) or 0)


def _drop_aggregate_chunks(db: Database, cutoff: datetime) -> None:
    """Drop the continuous aggregates' chunks entirely older than ``cutoff``."""
    with db.session() as s:
        for name in AGGREGATES:
            s.execute(text("SELECT drop_chunks(:n, older_than => :t)"), {"n": name, "t": cutoff})
