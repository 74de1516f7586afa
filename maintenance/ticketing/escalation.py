"""Escalation: a ticket nobody started within its priority's limit goes to the managers.

Limits come from the settings (``escalate_critical_min`` …), changeable in the app. Each
ticket is escalated once: ``tickets.escalated_at`` is set, a ``ticket.escalate`` audit entry
written, and the managers notified. The job runs on the worker holding its lease; a run
that overlaps another (a slow holder whose lease ran out) passes over the tickets the other
has locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so neither escalates them twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from data.models import AuditLog, Priority, Ticket, TicketStatus
from maintenance.notify.outbox import notify

__all__ = ["escalate_overdue", "limits_from"]


def limits_from(settings: Settings) -> dict[Priority, timedelta]:
    """How long a ticket of each priority may wait for someone to start it."""
    return {
        Priority.CRITICAL: timedelta(minutes=settings.escalate_critical_min),
        Priority.HIGH: timedelta(minutes=settings.escalate_high_min),
        Priority.LOW: timedelta(minutes=settings.escalate_low_min),
    }


def escalate_overdue(
    session: Session, now: datetime, limits: dict[Priority, timedelta]
) -> list[int]:
    """Escalate every open, never started, not yet escalated ticket older than its limit
    (counted from when a worse alarm last raised its priority, if one did); returns their
    ids."""
    waiting = session.scalars(
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.OPEN,
            Ticket.started_at.is_(None),
            Ticket.escalated_at.is_(None),
            Ticket.created_at <= now - min(limits.values()),
        )
        .order_by(Ticket.id)
        .with_for_update(skip_locked=True)  # SQLite: one worker, no row locks
    )
    done = []
    for ticket in waiting:
        limit = limits[ticket.priority]
        if (ticket.priority_at or ticket.created_at) > now - limit:
            continue
        ticket.escalated_at = now
        minutes = int(limit.total_seconds() // 60)
        session.add(
            AuditLog(
                action="ticket.escalate",
                entity="ticket",
                entity_id=str(ticket.id),
                before={"escalated_at": None},
                after={
                    "escalated_at": now.isoformat(),
                    "limit_min": minutes,
                    "text": f"Escalated to the managers: not started within {minutes} min",
                },
            )
        )
        notify(session=session, event="escalated", ticket=ticket)
        done.append(ticket.id)
    session.flush()
    return done
