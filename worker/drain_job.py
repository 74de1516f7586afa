"""The ``drain`` job: received MQTT messages validated, written and then acknowledged."""

from __future__ import annotations

from worker.context import JobContext

__all__ = ["drain"]


def drain(ctx: JobContext) -> int:
    """Drain the inbox; keep going while a backlog remains, but leave room for the next tick."""
    return ctx.drainer.run(budget_s=max(ctx.settings.drain_interval_s * 0.8, 0.05))
