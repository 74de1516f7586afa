"""The status changes of both ticket pages: the resolve dialog's Resolve button (every
field's message at once, then the resolution with its parts in one transaction,
``maintenance.repair.resolution``), start / put back / reopen, and what the dialog opens with."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import no_update

from data.db import Database
from data.models import Ticket, TicketStatus
from maintenance.alarming.raise_clear import still_active
from maintenance.machine_status.downtime import detected_stop
from maintenance.people.permissions import Action
from maintenance.repair.resolution import resolve_ticket
from maintenance.stock.spare_parts import PartError
from maintenance.ticketing.ticket_flow import TransitionError, change_status
from web.server.auth import AccessDenied, require
from web.views.resolve_form import (
    Answers,
    check_form,
    done_alert,
    error_alert,
    messages,
    opening,
)

__all__ = ["dialog_opening", "submit_resolution", "transition"]


def submit_resolution(
    db: Database,
    ticket_id: int | None,
    refresh: int | None,
    answers: Answers,
    *,
    element: str,
) -> tuple:
    """The dialog's Resolve button, for both ticket pages: role first, then every field's
    message at once, then the resolution with its parts, all or nothing. The result fills
    (page feedback, refresh, modal open, *messages)."""
    try:
        user = require(Action.TICKET_WORK)
    except AccessDenied as exc:
        return error_alert(str(exc), f"{element}-error"), no_update, False, *messages({})
    form = check_form(answers)
    if not form.ok or not ticket_id:  # the dialog stays as it is (no_update: its rows too)
        return no_update, no_update, no_update, *messages(form.errors)
    try:
        with db.session() as s:
            resolve_ticket(
                session=s,
                ticket_id=int(ticket_id),
                user=user,
                failure_confirmed=form.failure,
                cause=form.cause,
                action_taken=form.action,
                parts=form.parts,
                downtime=form.downtime,
            )
    except (TransitionError, PartError) as exc:  # rolled back: nothing used, nothing stored
        if getattr(exc, "field", ""):
            return no_update, no_update, no_update, *messages({"parts": str(exc)})
        alert = error_alert(str(exc), f"{element}-resolve-error")
        return no_update, no_update, no_update, *messages({}, alert)
    done = done_alert(int(ticket_id), TicketStatus.RESOLVED, element)
    return done, (refresh or 0) + 1, False, *messages({})


def transition(db: Database, ticket_id: int, to: TicketStatus, *, element: str) -> dbc.Alert:
    """Start, put back or reopen for the current user (role checked here, on the server),
    and how it went as an alert with id ``<element>-ok`` or ``<element>-error``."""
    try:
        user = require(Action.TICKET_WORK)
        with db.session() as s:
            change_status(session=s, ticket_id=ticket_id, to=to, user=user)
    except (TransitionError, AccessDenied) as exc:
        return error_alert(str(exc), f"{element}-error")
    return done_alert(ticket_id, to, element)


def dialog_opening(db: Database, ticket_id: int) -> tuple:
    """What the resolve dialog opens with (``resolve_form.opening``), read from the ticket."""
    with db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        opened = ticket.created_at if ticket else datetime.now(UTC)
        stop = (
            detected_stop(session=s, machine_id=ticket.machine_id, since=opened) if ticket else None
        )
        active = [(a.code, a.message) for a in still_active(session=s, ticket_id=ticket_id)]
    stopped, ran_again = stop if stop else (opened, None)
    return opening(ticket_id, stopped, ran_again, active)
