"""The ``rules`` job: threshold rules raise, escalate and clear alarms; stops are tracked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maintenance.alarming.threshold_rules import evaluate_rules
from maintenance.machine_status.downtime import track_stops
from worker.context import JobContext

__all__ = ["rules"]


def rules(ctx: JobContext) -> int:
    """Judge the recent window of every sensor; returns alarms and stops that changed."""
    s = ctx.overrides.current()
    with ctx.db.session() as session:
        outcome = evaluate_rules(
            session=session,
            now=datetime.now(UTC),
            window=timedelta(seconds=s.rules_window_s),
            clear_after=timedelta(seconds=s.alarm_clear_after_s),
        )
        stops = track_stops(
            session=session, now=datetime.now(UTC), window=timedelta(seconds=s.rules_window_s)
        )
    changes = len(outcome.raised) + len(outcome.escalated) + len(outcome.cleared)
    return changes + len(stops.opened) + len(stops.closed)
