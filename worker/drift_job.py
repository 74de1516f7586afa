"""The ``drift`` job: the recent period's live windows and scorings of every machine type
against the active model's training reference; results stored per type and feature, and the
drift alarm raised or cleared (``maintenance/model_health``). The period's readings come
from ``data.drift_grid``: per-step means kept between checks, so a check reads only the
readings since the last one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from data.drift_grid import period_grid
from maintenance.model_health.drift_alarm import apply_drift_alarms
from maintenance.model_health.drift_check import (
    DriftRules,
    period_scores,
    prune_checks,
    store_check,
)
from ml.drift_live import grid_windows
from ml.drift_reference import load_reference
from ml.registry import active
from worker.context import JobContext
from worker.live_scoring import current_scorer

__all__ = ["drift", "drift_rules"]

log = logging.getLogger(__name__)
STRIDE = 5  # a window ends every 5 steps, as in training
MAX_WINDOWS = 4000  # per type and check (bench/drift.py: PSI and KS need no more)
KEEP = timedelta(days=90)  # drift history kept (the page shows 14 days)


def drift(ctx: JobContext) -> int:
    """Check every machine type for drift; returns how many result rows were stored."""
    scorer = current_scorer(ctx)
    if scorer is None:
        return 0
    now = datetime.now(UTC)
    step = ctx.settings.live_step_s
    rules = drift_rules(ctx)
    period_s = ctx.overrides.current().drift_period_h * 3600 / ctx.settings.live_time_scale
    since = now - timedelta(seconds=period_s)
    first, last = int(since.timestamp() // step) + 1, int(now.timestamp() // step) - 1
    with ctx.db.session() as session:
        model = active(session=session, kind="anomaly") or active(session=session, kind="failure")
        reference = load_reference(Path(model.artefact)) if model else None
        # the period's per-step means: kept ones, and the readings since the last check
        grid = period_grid(session=session, step_s=step, first_bucket=first, last_bucket=last)
        scores = period_scores(session=session, since=since)
    live = grid_windows(
        *grid.of(scorer.sensors),
        window=scorer.window,
        stride=STRIDE,
        max_per_type=MAX_WINDOWS,
    )
    with ctx.db.session() as session:
        rows = store_check(
            session=session,
            reference=reference,
            baseline=scorer.baseline,
            live=live,
            scores=scores,
            types=sorted(set(grid.types.tolist())),
            period=(since, now),
            model_version=model.version if model else None,
            rules=rules,
            now=now,
        )
        raised = apply_drift_alarms(session=session, rules=rules, now=now)
        prune_checks(session=session, before=now - KEEP)
    if raised:
        log.warning("drift alarm raised: %s", [a.message for a in raised])
    return len(rows)


def drift_rules(ctx: JobContext) -> DriftRules:
    """The drift settings in force (settings changed in the app included)."""
    s = ctx.overrides.current()
    return DriftRules(
        psi_threshold=s.drift_psi_threshold,
        alarm_checks=s.drift_alarm_checks,
        min_windows=s.drift_min_windows,
        machine_psi_threshold=s.drift_machine_psi_threshold,
    )
