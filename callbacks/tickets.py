"""Tickets page: list, status actions and the resolve dialog, each a thin call into
``maintenance.ticketing.ticket_flow`` with the role checked here on the server."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html

from callbacks.resolve_parts import register_parts
from callbacks.resolve_ticket import dialog_opening, submit_resolution, transition
from config import Settings
from data.db import Database
from data.models import Role, TicketStatus
from maintenance.people.permissions import Action, allowed
from maintenance.ticketing.ticket_list import list_tickets
from web.server.auth import AccessDenied, require
from web.views.resolve_dialog import (
    RESOLVE_CANCEL,
    RESOLVE_DOWN_END,
    RESOLVE_DOWN_START,
    RESOLVE_MODAL,
    RESOLVE_STILL,
    RESOLVE_SUBMIT,
    RESOLVE_TICKET,
    RESOLVE_TITLE,
    answer_states,
    message_outputs,
)
from web.views.resolve_dialog import TICKETS_DIALOG as D
from web.views.resolve_form import Answers, error_alert
from web.views.tickets import (
    TICKET_ACTION,
    TICKETS_FEEDBACK,
    TICKETS_FILTER,
    TICKETS_REFRESH,
    TICKETS_TABLE,
    TICKETS_TICK,
    ticket_table,
)

_TARGET = {
    "start": TicketStatus.IN_PROGRESS,
    "release": TicketStatus.OPEN,
    "reopen": TicketStatus.OPEN,
}


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(Output(TICKETS_FILTER, "value"), Input(TICKETS_FEEDBACK, "id"))
    def my_tickets_first(_id: str) -> str:
        """A technician's list opens on their own tickets."""
        user = require(Action.TICKET_VIEW)
        if user.role is not Role.TECHNICIAN:
            raise dash.exceptions.PreventUpdate
        return "mine"

    @app.callback(
        Output(TICKETS_TABLE, "children"),
        Input(TICKETS_FILTER, "value"),
        Input(TICKETS_TICK, "n_intervals"),
        Input(TICKETS_REFRESH, "data"),
    )
    def table(which: str, _n: int, _refresh: int) -> html.Div:
        user = require(Action.TICKET_VIEW)
        with db.session() as s:
            rows = list_tickets(
                session=s,
                technician_id=user.id if which == "mine" else None,
                include_resolved=which == "all",
            )
        return ticket_table(rows, can_act=allowed(user.role, Action.TICKET_WORK))

    @app.callback(
        Output(TICKETS_FEEDBACK, "children"),
        Output(TICKETS_REFRESH, "data"),
        Output(RESOLVE_MODAL, "is_open"),
        Output(RESOLVE_TICKET, "data"),
        Output(RESOLVE_TITLE, "children"),
        Output(RESOLVE_DOWN_START, "value"),
        Output(RESOLVE_DOWN_END, "value"),
        Output(RESOLVE_STILL, "children"),
        Input({"type": TICKET_ACTION, "ticket": ALL, "action": ALL}, "n_clicks"),
        State(TICKETS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def act(_clicks: list, refresh: int) -> tuple:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate  # buttons were just (re)drawn
        ticket_id, action = ctx.triggered_id["ticket"], ctx.triggered_id["action"]
        try:
            require(Action.TICKET_WORK)
        except AccessDenied as exc:
            return _error(str(exc)), dash.no_update, False, *[dash.no_update] * 5
        if action == "resolve":
            opening = dialog_opening(db, ticket_id)
            return dash.no_update, dash.no_update, True, ticket_id, *opening
        alert = _transition(db, ticket_id, _TARGET[action])
        return alert, (refresh or 0) + 1, False, *[dash.no_update] * 5

    @app.callback(
        Output(TICKETS_FEEDBACK, "children", allow_duplicate=True),
        Output(TICKETS_REFRESH, "data", allow_duplicate=True),
        Output(RESOLVE_MODAL, "is_open", allow_duplicate=True),
        *message_outputs(D),
        Input(RESOLVE_SUBMIT, "n_clicks"),
        State(RESOLVE_TICKET, "data"),
        State(TICKETS_REFRESH, "data"),
        *answer_states(D),
        prevent_initial_call=True,
    )
    def resolve(_n: int, ticket_id: int | None, refresh: int, *answers: object) -> tuple:
        form = Answers(*answers)
        return submit_resolution(db, ticket_id, refresh, form, element="ticket")

    register_parts(app, db, D, State(RESOLVE_TICKET, "data"))

    @app.callback(
        Output(RESOLVE_MODAL, "is_open", allow_duplicate=True),
        Input(RESOLVE_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel(_n: int) -> bool:
        require(Action.TICKET_VIEW)
        return False


def _transition(db: Database, ticket_id: int, to: TicketStatus) -> dbc.Alert:
    return transition(db, ticket_id, to, element="ticket")


def _error(text: str, element_id: str = "ticket-error") -> dbc.Alert:
    return error_alert(text, element_id)
