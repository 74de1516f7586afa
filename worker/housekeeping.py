"""Keeping the readings in shape: ``rollup`` (ten-minute rollups, late readings included),
``retention`` (old readings rolled up and removed, TimescaleDB policies) and, on TimescaleDB,
``policies`` (its policies run by the worker where the server's job runner fails them)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from data.rollup import roll_up_due
from data.timescale import run_failed_policies
from maintenance.ops.retention import apply_retention
from worker.context import JobContext

__all__ = ["policies", "retention", "rollup"]

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


def policies(ctx: JobContext) -> int:
    """TimescaleDB's policies that its job runner failed, run here (see
    ``data.timescale.run_failed_policies``); how many ran (0 where the runner works)."""
    ran = run_failed_policies(ctx.db.engine)
    if ran:
        log.info("policies: TimescaleDB's job runner had failed them; ran %s", ", ".join(ran))
    return len(ran)
