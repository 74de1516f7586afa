"""Notifications (the outbox): ``notify`` adds one row per channel that wants the event, in
the caller's transaction, so a rolled-back change never notifies; the worker delivers them
(maintenance/notify/delivery.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Machine, Notification, NotificationChannel, Ticket, User

__all__ = [
    "EVENTS",
    "DeliveryRow",
    "delivery_log",
    "enqueue_test",
    "notify",
    "notify_event",
    "ticket_payload",
]

EVENTS = ("assigned", "worsened", "escalated", "resolved", "model_drift")
# "model_drift": the drift alarm, for the engineers' channel (no ticket: ``notify_event``)
_TO_TECHNICIAN = ("assigned", "worsened")  # also emailed to the assignee


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    created_at: datetime
    channel: str
    event: str
    ticket_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str


def notify(*, session: Session, event: str, ticket: Ticket) -> int:
    """Queue ``event`` of ``ticket`` for every active channel subscribed to it (and, on
    "assigned" and "worsened", an email to the technician); returns how many were queued.
    Never sends."""
    payload = ticket_payload(session=session, ticket=ticket)
    rows = [
        Notification(channel_id=c.id, event=event, ticket_id=ticket.id, payload=payload)
        for c in session.scalars(select(NotificationChannel).where(NotificationChannel.active))
        if event in (c.events or [])
    ]
    email = _technician_email(session, ticket) if event in _TO_TECHNICIAN else None
    if email:
        rows.append(
            Notification(recipient=email, event=event, ticket_id=ticket.id, payload=payload)
        )
    session.add_all(rows)
    return len(rows)


def notify_event(*, session: Session, event: str, payload: dict[str, object]) -> int:
    """Queue an event that is about no ticket (``payload`` has a "title" and a "link") for
    every active channel subscribed to it; returns how many were queued. Never sends."""
    rows = [
        Notification(channel_id=c.id, event=event, payload=payload)
        for c in session.scalars(select(NotificationChannel).where(NotificationChannel.active))
        if event in (c.events or [])
    ]
    session.add_all(rows)
    return len(rows)


def ticket_payload(*, session: Session, ticket: Ticket) -> dict[str, object]:
    """What a notification says about a ticket; the link is relative (the delivery makes it
    absolute with PDM_PUBLIC_URL when that is set)."""
    session.flush()  # a new ticket needs its id
    machine = session.get(Machine, ticket.machine_id)
    technician = session.get(User, ticket.technician_id) if ticket.technician_id else None
    return {
        "ticket_id": ticket.id,
        "machine": machine.name if machine else "",
        "code": ticket.code,
        "title": ticket.title,
        "priority": ticket.priority.value,
        "status": ticket.status.value,
        "assignee": technician.username if technician else None,
        "link": f"/ticket/{ticket.id}",
    }


def enqueue_test(*, session: Session, channel_id: int) -> Notification:
    """Queue a test message for one channel (from the admin page)."""
    row = Notification(
        channel_id=channel_id,
        event="test",
        payload={"title": "Test notification from the predictive-maintenance platform"},
    )
    session.add(row)
    session.flush()
    return row


def delivery_log(*, session: Session, limit: int = 200) -> list[DeliveryRow]:
    """The newest notifications and their outcome, newest first."""
    stmt = (
        select(Notification, NotificationChannel.name)
        .outerjoin(NotificationChannel, NotificationChannel.id == Notification.channel_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [
        DeliveryRow(
            n.id,
            n.created_at,
            name or f"email {n.recipient}",
            n.event,
            n.ticket_id,
            n.status,
            n.attempts,
            n.next_attempt_at,
            n.sent_at,
            n.last_error,
        )
        for n, name in session.execute(stmt)
    ]


def _technician_email(session: Session, ticket: Ticket) -> str | None:
    if ticket.technician_id is None:
        return None
    user = session.get(User, ticket.technician_id)
    return user.email if user is not None and user.active and user.email else None
