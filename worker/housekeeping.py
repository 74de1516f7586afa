"""Keeping the readings in shape: ``rollup`` (ten-minute rollups, late readings included)
and ``retention`` (old readings rolled up and removed, TimescaleDB policies)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from data.rollup import roll_up_due
from maintenance.ops.retention import apply_retention
from worker.context import JobContext

__all__ = ["retention", "rollup"]

log = logging.getLogger(__name__)


def retention(ctx: JobContext) -> int:
    """Roll up and remove what is older than the retention settings allow."""
    s = ctx.overrides.current()
    outcome = apply_retention(
        db=ctx.db,
        now=datetime.now(UTC),
        raw_days=s.retention_raw_days,
        rollup_days=s.retention_rollup_days,
        compress_after_days=s.timescale_compress_after_days,
        progress=lambda done, total: log.info("retention: day %d of %d rolled up", done, total),
    )
    return outcome.readings_removed + outcome.rollups_removed


def rollup(ctx: JobContext) -> int:
    """Ten-minute rollups up to now (see ``data.rollup.roll_up_due``)."""
    with ctx.db.session() as session:
        return roll_up_due(session, datetime.now(UTC), catch_up=timedelta(days=7))
