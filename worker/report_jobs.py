"""Stored weekly breakdown reports: ``weekly_report`` stores last week's, ``report_refresh``
rebuilds those whose week's data changed since."""

from __future__ import annotations

from datetime import UTC, datetime

from maintenance.reporting.breakdown_report import (
    last_full_week,
    list_reports,
    refresh_weekly_reports,
    store_weekly_report,
)
from worker.context import JobContext

__all__ = ["refresh_reports", "weekly_report"]


def weekly_report(ctx: JobContext) -> int:
    """Store last week's breakdown report if it is not stored yet (idempotent)."""
    week_start, _ = last_full_week(datetime.now(UTC))
    with ctx.db.session() as session:
        before = {r.id for r in list_reports(session=session)}
        report = store_weekly_report(session=session, week_start=week_start)
        return int(report.id not in before)


def refresh_reports(ctx: JobContext) -> int:
    """Rebuild stored weekly reports whose week's data changed since they were built."""
    with ctx.db.session() as session:
        return refresh_weekly_reports(session=session)
