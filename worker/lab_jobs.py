"""The model lab in the background: ``lab`` runs the queued training and backtest runs one
at a time; ``retrain`` queues the weekly retrain."""

from __future__ import annotations

from maintenance.ops.model_lab import lab_setup
from ml.lab.queue import fail_interrupted, queue_run
from ml.lab.runs import run_next
from worker.context import JobContext

__all__ = ["lab", "retrain"]


def lab(ctx: JobContext) -> int:
    """Fail the runs of workers no longer alive, then run the next queued model-lab run
    this worker claims, if any."""
    worker = ctx.settings.worker_id
    failed = fail_interrupted(ctx.db, worker=worker)  # between runs: none of ours is running
    return failed + run_next(ctx.db, lab_setup(ctx.settings, ctx.db, ctx.overrides), worker=worker)


def retrain(ctx: JobContext) -> int:
    """Queue the weekly retrain (the lab job runs it): the plant's history with the
    technicians' verdicts, plus simulated history, backtested against the active pair."""
    if not ctx.settings.lab_retrain_weekly:
        return 0
    with ctx.db.session() as session:
        queue_run(
            session=session,
            kind="retrain",
            params={"source": "plant+simulator", "days": 14.0, "machines": 12},
            user_id=None,
        )
    return 1
