"""Ticket page: the escalation badge and managers' reassignment. The role is checked on the
server here, and again by ``maintenance.ticketing.assignment.reassign``."""

from __future__ import annotations

import dash
from dash import Input, Output, State

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action, allowed
from maintenance.ticketing.assignment import (
    AssignmentError,
    reassign,
    technician_options,
    ticket_assignment,
)
from web.server.auth import AccessDenied, require
from web.views.ticket import TICKET_ID, TICKET_REFRESH
from web.views.ticket_assign import (
    TICKET_ASSIGN_FEEDBACK,
    TICKET_ASSIGN_FORM,
    TICKET_ASSIGN_SELECT,
    TICKET_ASSIGN_SUBMIT,
    TICKET_ESCALATED,
    done_alert,
    error_alert,
    escalated_badge,
    select_options,
)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(TICKET_ESCALATED, "children"),
        Output(TICKET_ASSIGN_FORM, "hidden"),
        Output(TICKET_ASSIGN_SELECT, "options"),
        Output(TICKET_ASSIGN_SELECT, "value"),
        Input(TICKET_ID, "data"),
        Input(TICKET_REFRESH, "data"),
    )
    def show(ticket_id: int | None, _refresh: int) -> tuple:
        user = require(Action.TICKET_VIEW)
        with db.session() as s:
            t = ticket_assignment(session=s, ticket_id=ticket_id or 0)
            may = t is not None and not t.resolved and allowed(user.role, Action.TICKET_REASSIGN)
            options = select_options(technician_options(session=s)) if may else []
        if t is None:
            return None, True, [], None
        badge = escalated_badge(ticket_id or 0) if t.escalated_at else None
        return badge, not may, options, str(t.technician_id) if t.technician_id else None

    @app.callback(
        Output(TICKET_ASSIGN_FEEDBACK, "children"),
        Output(TICKET_REFRESH, "data", allow_duplicate=True),
        Input(TICKET_ASSIGN_SUBMIT, "n_clicks"),
        State(TICKET_ASSIGN_SELECT, "value"),
        State(TICKET_ID, "data"),
        State(TICKET_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def submit(_n: int, choice: str | None, ticket_id: int | None, refresh: int) -> tuple:
        try:
            user = require(Action.TICKET_REASSIGN)
            if not choice or not str(choice).isdigit() or not ticket_id:
                raise AssignmentError("Choose an active technician.")
            with db.session() as s:
                name = reassign(
                    session=s, ticket_id=ticket_id, technician_id=int(choice), user=user
                )
        except (AccessDenied, AssignmentError) as exc:
            return error_alert(str(exc)), dash.no_update
        return done_alert(ticket_id, name), (refresh or 0) + 1
