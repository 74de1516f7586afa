"""The ticket lists: most urgent first, with who works on each and how many alarms joined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from data.models import Alarm, Machine, Priority, Ticket, TicketStatus, User

__all__ = ["TicketRow", "list_tickets", "ticket_page"]


@dataclass(frozen=True, slots=True)
class TicketRow:
    id: int
    machine: str
    code: str
    title: str
    priority: Priority
    status: TicketStatus
    technician: str | None
    assignment_reason: str
    created_at: datetime
    failure_confirmed: bool | None
    escalated_at: datetime | None = None  # not started in time: escalated to the managers
    joined: int = 0  # later alarms of the machine that joined this ticket


def list_tickets(
    *,
    session: Session,
    technician_id: int | None = None,
    include_resolved: bool = False,
    limit: int = 200,
) -> list[TicketRow]:
    """Tickets, most urgent first: open before resolved, then priority, then oldest."""
    stmt = _rows_query()
    if technician_id is not None:
        stmt = stmt.where(Ticket.technician_id == technician_id)
    if not include_resolved:
        stmt = stmt.where(Ticket.status != TicketStatus.RESOLVED)
    rank = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.LOW: 2}
    rows = _rows(session, stmt.order_by(Ticket.created_at).limit(limit))
    return sorted(rows, key=lambda r: (r.status is TicketStatus.RESOLVED, rank[r.priority]))


def ticket_page(
    *,
    session: Session,
    after_id: int | None = None,
    limit: int = 100,
    status: TicketStatus | None = None,
    machine_id: int | None = None,
    technician_id: int | None = None,
) -> list[TicketRow]:
    """Tickets by id (a stable order to page through), after ``after_id``, filtered."""
    stmt = _rows_query()
    if after_id is not None:
        stmt = stmt.where(Ticket.id > after_id)
    if status is not None:
        stmt = stmt.where(Ticket.status == status)
    if machine_id is not None:
        stmt = stmt.where(Ticket.machine_id == machine_id)
    if technician_id is not None:
        stmt = stmt.where(Ticket.technician_id == technician_id)
    return _rows(session, stmt.order_by(Ticket.id).limit(limit))


def _rows_query() -> Select:
    tech = select(User.username).where(User.id == Ticket.technician_id).scalar_subquery()
    joined = (
        select(func.count(Alarm.id))
        .where(Alarm.ticket_id == Ticket.id, Alarm.id != func.coalesce(Ticket.alarm_id, 0))
        .scalar_subquery()
    )
    return select(Ticket, Machine.name, tech, joined).join(Machine, Machine.id == Ticket.machine_id)


def _rows(session: Session, stmt: Select) -> list[TicketRow]:
    return [
        TicketRow(
            t.id,
            name,
            t.code,
            t.title,
            t.priority,
            t.status,
            tech_name,
            t.assignment_reason,
            t.created_at,
            t.failure_confirmed,
            t.escalated_at,
            n_joined,
        )
        for t, name, tech_name, n_joined in session.execute(stmt)
    ]
