"""Working a ticket: ticking the steps of its SOP and commenting, each audited with who and when.

A ticket is worked against one SOP version: the one its first tick was made on, so an SOP
edited half-way through a repair never moves the ticks of the steps already done.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import (
    AuditLog,
    Role,
    Sop,
    SopVersion,
    Ticket,
    TicketComment,
    TicketStatus,
    TicketStep,
    utcnow,
)
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.ticketing.ticket_flow import may_change

__all__ = [
    "WorkError",
    "MAX_COMMENT",
    "checklist_version",
    "done_steps",
    "set_step",
    "check_comment",
    "add_comment",
]

MAX_COMMENT = 2000


class WorkError(ValueError):
    """A tick or comment that is not allowed or not valid; the message is meant for the user."""


def checklist_version(*, session: Session, ticket: Ticket) -> SopVersion | None:
    """The SOP version the ticket is worked against: that of its ticks, else the current one."""
    pinned = session.scalar(
        select(func.max(TicketStep.sop_version_id)).where(TicketStep.ticket_id == ticket.id)
    )
    if pinned is not None:
        return session.get(SopVersion, pinned)
    return session.scalar(
        select(SopVersion)
        .join(Sop, Sop.id == SopVersion.sop_id)
        .where(Sop.code == ticket.code, SopVersion.version == Sop.current_version)
    )


def done_steps(*, session: Session, ticket_id: int, sop_version_id: int) -> set[int]:
    """Indexes (from 0) of the steps ticked as done."""
    return set(
        session.scalars(
            select(TicketStep.step).where(
                TicketStep.ticket_id == ticket_id,
                TicketStep.sop_version_id == sop_version_id,
                TicketStep.done.is_(True),
            )
        )
    )


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise WorkError(f"Ticket #{ticket_id} does not exist.")
    return ticket


def set_step(
    *,
    session: Session,
    ticket_id: int,
    sop_version_id: int,
    step: int,
    done: bool,
    user: UserInfo,
) -> bool:
    """Mark one step (index from 0) done or not, stored with the user and time and audited
    as ``ticket.step``. Returns False when it already was so (nothing stored)."""
    if not allowed(user.role, Action.TICKET_WORK):
        raise WorkError("Your role may not tick steps; the assigned technician does.")
    ticket = _ticket(session, ticket_id)
    if not may_change(ticket=ticket, user=user):
        raise WorkError("You may only work on tickets assigned to you.")
    if ticket.status is TicketStatus.RESOLVED:
        raise WorkError(f"Ticket #{ticket_id} is resolved; reopen it to change its checklist.")
    version = checklist_version(session=session, ticket=ticket)
    if version is None or version.id != sop_version_id:
        raise WorkError("This checklist is out of date; reload the page.")
    if not 0 <= step < len(version.steps):
        raise WorkError("There is no such step; reload the page.")
    row = session.scalar(
        select(TicketStep).where(
            TicketStep.ticket_id == ticket_id,
            TicketStep.sop_version_id == version.id,
            TicketStep.step == step,
        )
    )
    if bool(row and row.done) == done:
        return False
    row = row or TicketStep(ticket_id=ticket_id, sop_version_id=version.id, step=step)
    row.done, row.user_id, row.at = done, user.id, utcnow()
    session.add(row)
    session.add(
        AuditLog(
            user_id=user.id,
            ts=row.at,
            action="ticket.step",
            entity="ticket",
            entity_id=str(ticket_id),
            before={"done": not done},
            after={
                "step": step + 1,
                "text": version.steps[step][:200],
                "done": done,
                "sop": ticket.code,
                "version": version.version,
            },
        )
    )
    session.flush()
    return True


def check_comment(body: str | None) -> str:
    """The comment as it will be stored, or ``WorkError`` saying what is wrong with it."""
    text = (body or "").strip()
    if not text:
        raise WorkError("Write a comment first.")
    if len(text) > MAX_COMMENT:
        raise WorkError(
            f"A comment may be at most {MAX_COMMENT:,} characters; this one has {len(text):,}."
        )
    return text


def add_comment(*, session: Session, ticket_id: int, body: str | None, user: UserInfo) -> int:
    """Add a plain-text comment to a ticket (audited as ``ticket.comment``); returns its id.
    Managers, admins and engineers may comment on any ticket, technicians on their own."""
    if not allowed(user.role, Action.TICKET_COMMENT):
        raise WorkError("Your role may not comment on tickets.")
    text = check_comment(body)
    ticket = _ticket(session, ticket_id)
    if user.role is Role.TECHNICIAN and not may_change(ticket=ticket, user=user):
        raise WorkError("You may only comment on tickets assigned to you.")
    comment = TicketComment(ticket_id=ticket_id, user_id=user.id, body=text)
    session.add(comment)
    session.flush()
    session.add(
        AuditLog(
            user_id=user.id,
            ts=comment.created_at,
            action="ticket.comment",
            entity="ticket",
            entity_id=str(ticket_id),
            after={"comment": comment.id, "preview": text[:120]},
        )
    )
    session.flush()
    return comment.id
