"""The ``drain`` job: received MQTT messages validated, written and then acknowledged."""

from __future__ import annotations

from worker.context import JobContext

__all__ = ["drain"]


# With the drain's pipeline, a backlog is drained for up to this long in one run: each
# return costs up to a tick of idle (APScheduler skips a tick that finds the job running),
# and with batches of ~0.5 s that was a third of the time. A stop interrupts the run.
BACKLOG_S = 5.0


def drain(ctx: JobContext) -> int:
    """Drain the inbox; keep going while a backlog remains (the serial drain of
    ``PDM_DRAIN_PIPELINE=false`` leaves room for the next tick, as it always did)."""
    budget = max(ctx.settings.drain_interval_s * 0.8, 0.05)
    if ctx.settings.drain_pipeline:
        budget = max(budget, BACKLOG_S)
    return ctx.drainer.run(budget_s=budget)
