"""Tickets on a clock: ``escalation`` of tickets nobody started, ``plans`` opening planned
(preventive) tickets, and ``notify`` delivering what people are told about them."""

from __future__ import annotations

from datetime import UTC, datetime

from maintenance.notify.delivery import deliver_due
from maintenance.planning.preventive_plans import open_planned_tickets
from maintenance.ticketing.escalation import escalate_overdue, limits_from
from worker.context import JobContext

__all__ = ["escalate", "notify", "open_plans"]


def escalate(ctx: JobContext) -> int:
    """Escalate tickets nobody started within their priority's limit."""
    limits = limits_from(ctx.overrides.current())
    with ctx.db.session() as session:
        return len(escalate_overdue(session, datetime.now(UTC), limits))


def open_plans(ctx: JobContext) -> int:
    """Preventive maintenance: open planned tickets that are within their lead time."""
    with ctx.db.session() as session:
        return len(open_planned_tickets(session, datetime.now(UTC)))


def notify(ctx: JobContext) -> int:
    """Deliver due notifications (email, Slack, webhooks) with retries and backoff."""
    return deliver_due(db=ctx.db, settings=ctx.settings, now=datetime.now(UTC)).total
