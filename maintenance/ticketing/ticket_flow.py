"""Tickets: opening (once per machine and code), assignment, the status flow (the lists are
in ``maintenance.ticketing.ticket_list``).

Alarms do not call ``open_ticket`` for every code: a machine with an unresolved fault ticket
gets further alarms joined to it (``maintenance.alarming.raise_clear.raise_alarm``), so one fault
sends one technician."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from data.models import (
    AuditLog,
    Downtime,
    DowntimeKind,
    Priority,
    Role,
    Ticket,
    TicketStatus,
    utcnow,
)
from maintenance.machine_status.running_hours import record_completion
from maintenance.notify.outbox import notify
from maintenance.ops import alarm_ticket_metrics as metrics
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.ticketing.assignment import assign_technician

__all__ = [
    "TransitionError",
    "raise_priority",
    "open_ticket",
    "open_fault_ticket",
    "change_status",
    "may_change",
    "ALLOWED",
]

# (from, to): the status flow; reopening a resolved ticket is allowed.
ALLOWED = {
    (TicketStatus.OPEN, TicketStatus.IN_PROGRESS),
    (TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED),
    (TicketStatus.IN_PROGRESS, TicketStatus.OPEN),
    (TicketStatus.RESOLVED, TicketStatus.OPEN),
}


class TransitionError(ValueError):
    """A status change that is not allowed; the message is meant for the user."""


def _open_for(session: Session, machine_id: int, code: str) -> Ticket | None:
    """The machine's unresolved unplanned ticket for ``code`` (planned work is its own)."""
    return session.scalars(
        select(Ticket).where(
            Ticket.machine_id == machine_id,
            Ticket.code == code,
            Ticket.plan_id.is_(None),
            Ticket.status != TicketStatus.RESOLVED,
        )
    ).first()


def open_ticket(
    *,
    session: Session,
    machine_id: int,
    code: str,
    title: str,
    priority: Priority,
    alarm_id: int | None = None,
    now: datetime | None = None,
    plan_id: int | None = None,
    due_at: datetime | None = None,
    user_id: int | None = None,
) -> Ticket | None:
    """Open and assign a ticket, unless one is already open for this machine and code
    (planned work: for this machine and plan); ``user_id``: who opened it by hand (None:
    the rules, the model or a plan)."""
    if plan_id is None and _open_for(session, machine_id, code) is not None:
        return None
    now = now or utcnow()
    choice = assign_technician(session=session, machine_id=machine_id, now=now)
    technician_id, reason = choice.technician_id, choice.reason
    ticket = Ticket(
        machine_id=machine_id,
        code=code,
        title=title,
        priority=priority,
        alarm_id=alarm_id,
        technician_id=technician_id,
        assignment_reason=reason,
        created_at=now,
        plan_id=plan_id,
        due_at=due_at,
    )
    session.add(ticket)
    session.flush()
    session.add(
        AuditLog(
            user_id=user_id,
            action="ticket.open",
            entity="ticket",
            entity_id=str(ticket.id),
            after={"code": code, "priority": priority.value, "reason": reason},
        )
    )
    metrics.TICKETS_OPENED.labels(priority.value).inc()
    if technician_id is not None:
        notify(session=session, event="assigned", ticket=ticket)  # outbox: same transaction
    return ticket


def open_fault_ticket(session: Session, machine_id: int) -> Ticket | None:
    """The machine's unresolved unplanned ticket (the oldest, should there be several)."""
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.machine_id == machine_id,
            Ticket.plan_id.is_(None),
            Ticket.status != TicketStatus.RESOLVED,
        )
        .order_by(Ticket.id)
        .limit(1)
    ).first()


_RANK = {Priority.LOW: 0, Priority.HIGH: 1, Priority.CRITICAL: 2}


def raise_priority(*, session: Session, ticket: Ticket | None, priority: Priority) -> None:
    """A worsening alarm makes its unresolved ticket more urgent (never less): the assignee
    and the channels that want it hear of it ("worsened"), and the escalation clock
    restarts at the new priority's limit."""
    if ticket is None or ticket.status is TicketStatus.RESOLVED:
        return
    if _RANK[priority] > _RANK[ticket.priority]:
        session.add(
            AuditLog(
                action="ticket.escalate",
                entity="ticket",
                entity_id=str(ticket.id),
                before={"priority": ticket.priority.value},
                after={"priority": priority.value},
            )
        )
        ticket.priority, ticket.priority_at = priority, utcnow()
        notify(session=session, event="worsened", ticket=ticket)


def change_status(
    *,
    session: Session,
    ticket_id: int,
    to: TicketStatus,
    user: UserInfo,
    resolution: str = "",
    failure_confirmed: bool | None = None,
    downtime: tuple[datetime, datetime] | None = None,
    cause: str = "",
    action_taken: str = "",
) -> Ticket:
    """Move a ticket along the status flow, checking who may do it; audited. Resolving stores
    the cause and action taken (``resolution`` is a free extra note); resolving a confirmed
    failure with ``downtime`` (stopped, running again) records the breakdown."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TransitionError(f"Ticket #{ticket_id} does not exist.")
    _check_permission(ticket, user)
    if (ticket.status, to) not in ALLOWED:
        raise TransitionError(
            f"Ticket #{ticket_id} is {ticket.status.value}; it cannot move to {to.value}."
        )
    resolving = to is TicketStatus.RESOLVED
    if resolving and failure_confirmed is None:
        raise TransitionError("Say whether a real failure was confirmed or it was a false alarm.")
    if downtime is not None:
        _check_downtime(*downtime)
    before = {"status": ticket.status.value}
    _apply(ticket, to, (resolution.strip(), cause.strip(), action_taken.strip()), failure_confirmed)
    if resolving and failure_confirmed and downtime is not None:
        _record_breakdown(session, ticket, downtime, user.id)
    if resolving and ticket.plan_id is not None:
        record_completion(session, ticket)  # the plan's next due date counts from now
    after: dict = {"status": to.value, "failure_confirmed": failure_confirmed}
    if resolving:  # what was found and done, next to the label, in the same entry
        after |= {"cause": ticket.cause, "action_taken": ticket.action_taken}
    if downtime:
        after["downtime"] = [t.isoformat() for t in downtime]
    session.add(
        AuditLog(
            user_id=user.id,
            action="ticket.status",
            entity="ticket",
            entity_id=str(ticket.id),
            before=before,
            after=after,
        )
    )
    session.flush()
    if resolving:
        notify(session=session, event="resolved", ticket=ticket)
    return ticket


def _check_downtime(stopped: datetime, running: datetime) -> None:
    now = utcnow()
    if running < stopped:
        raise TransitionError("The machine cannot run again before it stopped.")
    if running > now + timedelta(minutes=5):
        raise TransitionError("The machine cannot run again in the future.")
    if stopped < now - timedelta(days=90):
        raise TransitionError("A stop more than 90 days ago belongs to another ticket.")


def _record_breakdown(
    session: Session, ticket: Ticket, downtime: tuple[datetime, datetime], user_id: int
) -> None:
    """One breakdown per ticket: resolving again (after a reopen) corrects it, and a stop
    the data showed for the same machine and time becomes this ticket's, not a second one."""
    stopped, running = downtime
    period = (
        session.scalar(
            select(Downtime).where(Downtime.ticket_id == ticket.id, Downtime.source == "ticket")
        )
        or session.scalar(
            select(Downtime)
            .where(
                Downtime.machine_id == ticket.machine_id,
                Downtime.ticket_id.is_(None),
                Downtime.source == "detected",
                Downtime.started_at <= running,
                or_(Downtime.ended_at.is_(None), Downtime.ended_at >= stopped),
            )
            .order_by(Downtime.started_at)
            .limit(1)
        )
        or Downtime(
            machine_id=ticket.machine_id,
            kind=DowntimeKind.BREAKDOWN,
            ticket_id=ticket.id,
            source="ticket",
            created_by=user_id,
        )
    )
    period.started_at, period.ended_at = downtime
    period.kind, period.source, period.ticket_id = DowntimeKind.BREAKDOWN, "ticket", ticket.id
    period.note = (ticket.cause or ticket.resolution)[:500]
    session.add(period)


def _check_permission(ticket: Ticket, user: UserInfo) -> None:
    if allowed(user.role, Action.TICKET_WORK_ANY):
        return
    if user.role is Role.TECHNICIAN and ticket.technician_id in (None, user.id):
        return
    raise TransitionError("You may only change tickets assigned to you.")


def _apply(
    ticket: Ticket, to: TicketStatus, notes: tuple[str, str, str], confirmed: bool | None
) -> None:
    now = utcnow()
    ticket.status = to
    if to is TicketStatus.IN_PROGRESS:
        ticket.started_at = ticket.started_at or now
    elif to is TicketStatus.RESOLVED:
        ticket.resolved_at, ticket.failure_confirmed = now, confirmed
        ticket.resolution, ticket.cause, ticket.action_taken = notes
    else:  # reopened or handed back: the old answers stay in the audit log only
        ticket.resolved_at, ticket.failure_confirmed = None, None
        ticket.cause, ticket.action_taken = "", ""


def may_change(*, ticket: Ticket, user: UserInfo) -> bool:
    """Whether ``user`` may work on ``ticket``: the rule ``change_status`` enforces."""
    try:
        _check_permission(ticket, user)
    except TransitionError:
        return False
    return True
