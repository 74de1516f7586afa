"""Who gets a new ticket, and managers' reassignments.

The rule (``choose_technician``, pure): among active technicians, prefer one on shift now
with the machine's type among their skills; failing that, anyone on shift; then someone off
shift with the skill; then anyone. Within a tier, the fewest open (not resolved) tickets,
then the lowest id. The reason is recorded in words with the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, Machine, Role, Ticket, TicketStatus, User, utcnow
from maintenance.notify.outbox import notify
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed

__all__ = [
    "AssignmentError",
    "Candidate",
    "Choice",
    "TechnicianOption",
    "TicketAssignment",
    "assign_technician",
    "choose_technician",
    "on_shift",
    "reassign",
    "technician_options",
    "ticket_assignment",
]


class AssignmentError(ValueError):
    """A reassignment that cannot be made; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    username: str
    skills: frozenset[str]
    shift_start: int | None  # UTC hour; None with shift_end None: any time
    shift_end: int | None
    open_tickets: int


@dataclass(frozen=True, slots=True)
class Choice:
    technician_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class TechnicianOption:
    id: int
    label: str  # "alice (pump, motor; 06-14; 2 open)"


def on_shift(start: int | None, end: int | None, hour: int) -> bool:
    """Whether ``hour`` (UTC) falls in the shift [start, end); a shift may wrap past midnight."""
    if start is None or end is None or start == end:
        return True
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def _shift(c: Candidate) -> str:
    if c.shift_start is None or c.shift_end is None:
        return "any time"
    return f"{c.shift_start:02d}-{c.shift_end:02d}"


def _open(n: int) -> str:
    return f"{n} open ticket{'' if n == 1 else 's'}"


def _fewest(group: Iterable[Candidate]) -> Candidate | None:
    return min(group, key=lambda c: (c.open_tickets, c.id), default=None)


def choose_technician(
    *, candidates: Sequence[Candidate], machine_type: str, now: datetime
) -> Choice:
    """The technician for a new ticket on a machine of ``machine_type`` at ``now``, and why."""
    if not candidates:
        return Choice(None, "unassigned: no active technician")
    here = [c for c in candidates if on_shift(c.shift_start, c.shift_end, now.hour)]
    skilled = {c.id for c in candidates if machine_type in c.skills}
    t = machine_type
    best = _fewest(c for c in here if c.id in skilled)
    if best is not None:
        why = f"skill {t}, on shift {_shift(best)}, {_open(best.open_tickets)}"
        return Choice(best.id, f"assigned: {why}")
    best = _fewest(here)
    if best is not None:
        why = f"no {t} technician on shift: fewest open tickets on shift ({best.open_tickets})"
        return Choice(best.id, f"assigned: {why}")
    best = _fewest(c for c in candidates if c.id in skilled)
    if best is not None:
        why = f"nobody on shift: skill {t}, off shift ({_shift(best)}), {_open(best.open_tickets)}"
        return Choice(best.id, f"assigned: {why}")
    best = _fewest(candidates)
    assert best is not None  # candidates is not empty
    why = f"nobody on shift, no {t} technician: fewest open tickets ({best.open_tickets})"
    return Choice(best.id, f"assigned: {why}")


def _open_count():  # noqa: ANN202 - a correlated scalar subquery
    return (
        select(func.count(Ticket.id))
        .where(Ticket.technician_id == User.id, Ticket.status != TicketStatus.RESOLVED)
        .correlate(User)
        .scalar_subquery()
    )


def _candidates(session: Session) -> list[Candidate]:
    n = _open_count()
    rows = session.execute(
        select(User.id, User.username, User.skills, User.shift_start, User.shift_end, n)
        .where(User.role == Role.TECHNICIAN, User.active.is_(True))
        .order_by(User.id)
    )
    return [
        Candidate(r[0], r[1], frozenset(str(s) for s in (r[2] or [])), r[3], r[4], int(r[5]))
        for r in rows
    ]


def assign_technician(*, session: Session, machine_id: int, now: datetime | None = None) -> Choice:
    """Choose the technician for a new ticket on ``machine_id`` from the database."""
    machine_type = session.scalar(select(Machine.type).where(Machine.id == machine_id)) or ""
    return choose_technician(
        candidates=_candidates(session), machine_type=machine_type, now=now or utcnow()
    )


@dataclass(frozen=True, slots=True)
class TicketAssignment:
    technician_id: int | None
    resolved: bool
    escalated_at: datetime | None


def ticket_assignment(*, session: Session, ticket_id: int) -> TicketAssignment | None:
    """Who has the ticket, whether it is resolved, and when it was escalated."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    return TicketAssignment(
        ticket.technician_id, ticket.status is TicketStatus.RESOLVED, ticket.escalated_at
    )


def technician_options(*, session: Session) -> list[TechnicianOption]:
    """Active technicians to reassign to, with their skills, shift and open tickets."""
    out = []
    for c in _candidates(session):
        skills = ", ".join(sorted(c.skills)) or "no skills"
        out.append(
            TechnicianOption(c.id, f"{c.username} ({skills}; {_shift(c)}; {c.open_tickets} open)")
        )
    return out


def reassign(*, session: Session, ticket_id: int, technician_id: int, user: UserInfo) -> str:
    """Give a ticket to another active technician (managers, admins); audited. Returns the
    new technician's name; raises AssignmentError with a message for the user."""
    if not allowed(user.role, Action.TICKET_REASSIGN):
        raise AssignmentError("Only managers and admins may reassign tickets.")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise AssignmentError(f"Ticket #{ticket_id} does not exist.")
    target = session.get(User, technician_id)
    if target is None or target.role is not Role.TECHNICIAN or not target.active:
        raise AssignmentError("Choose an active technician.")
    if ticket.status is TicketStatus.RESOLVED:
        raise AssignmentError(f"Ticket #{ticket_id} is resolved; reopen it first.")
    if ticket.technician_id == target.id:
        raise AssignmentError(f"Ticket #{ticket_id} is already assigned to {target.username}.")
    before = ticket.technician.username if ticket.technician else None
    session.add(
        AuditLog(
            user_id=user.id,
            action="ticket.reassign",
            entity="ticket",
            entity_id=str(ticket.id),
            before={"technician_id": ticket.technician_id, "technician": before},
            after={
                "technician_id": target.id,
                "technician": target.username,
                "text": f"Reassigned from {before or 'nobody'} to {target.username}",
            },
        )
    )
    ticket.technician = target
    ticket.assignment_reason = f"assigned: reassigned by {user.username}"
    session.flush()
    notify(session=session, event="assigned", ticket=ticket)
    return target.username
