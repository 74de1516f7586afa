"""Resolving a ticket the way the resolve dialog asks it: outcome, cause, action taken, spare
parts used and the breakdown, in the caller's one transaction, so a refusal stores nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from data.models import Ticket, TicketStatus
from maintenance.people.accounts import UserInfo
from maintenance.stock.spare_parts import use_parts
from maintenance.ticketing.ticket_flow import TransitionError, change_status

__all__ = ["resolve_ticket"]


def resolve_ticket(
    *,
    session: Session,
    ticket_id: int,
    user: UserInfo,
    failure_confirmed: bool,
    cause: str,
    action_taken: str,
    parts: list[tuple[int, int]] | None = None,
    downtime: tuple[datetime, datetime] | None = None,
) -> Ticket:
    """Take ``parts`` (part id, quantity) from stock and resolve the ticket with its cause
    and action, all or nothing: on ``TransitionError`` or ``PartError`` no part is taken
    and nothing is stored, even if the caller catches it and commits."""
    if not cause.strip() or not action_taken.strip():
        raise TransitionError("Say what caused it and what action was taken.")
    with session.begin_nested():  # a savepoint: a refused downtime undoes the parts taken
        if parts:  # first: parts are taken while the ticket is still in progress
            use_parts(session=session, ticket_id=ticket_id, user=user, items=parts)
        return change_status(
            session=session,
            ticket_id=ticket_id,
            to=TicketStatus.RESOLVED,
            user=user,
            failure_confirmed=failure_confirmed,
            downtime=downtime,
            cause=cause,
            action_taken=action_taken,
        )
