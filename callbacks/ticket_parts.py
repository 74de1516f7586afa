"""Ticket page, parts card: record spare parts taken from stock while the ticket is in
progress (role checked here; the domain checks who works on the ticket and the stock)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action
from maintenance.stock.spare_parts import PartError, ticket_parts, use_parts
from web.server.auth import AccessDenied, require
from web.server.input_kinds import as_id
from web.views.ticket import TICKET_ID, TICKET_REFRESH
from web.views.ticket_parts import (
    TICKET_PARTS_ERROR,
    TICKET_PARTS_FEEDBACK,
    TICKET_PARTS_FORM,
    TICKET_PARTS_OK,
    TICKET_PARTS_QTY,
    TICKET_PARTS_SELECT,
    TICKET_PARTS_SUBMIT,
    TICKET_PARTS_USED,
    part_options,
    used_list,
)


def _card(db: Database, ticket_id: int) -> tuple:
    user = require(Action.TICKET_VIEW)
    with db.session() as s:
        view = ticket_parts(session=s, ticket_id=ticket_id, user=user)
    return used_list(view.used), part_options(view.choices), not view.can_record


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(TICKET_PARTS_USED, "children"),
        Output(TICKET_PARTS_SELECT, "options"),
        Output(TICKET_PARTS_FORM, "hidden"),
        Input(TICKET_ID, "data"),
        Input(TICKET_REFRESH, "data"),
    )
    def show(ticket_id: int | None, _refresh: int) -> tuple:
        return _card(db, ticket_id or 0)

    @app.callback(
        Output(TICKET_PARTS_FEEDBACK, "children"),
        Output(TICKET_PARTS_USED, "children", allow_duplicate=True),
        Output(TICKET_PARTS_SELECT, "options", allow_duplicate=True),
        Input(TICKET_PARTS_SUBMIT, "n_clicks"),
        State(TICKET_ID, "data"),
        State(TICKET_PARTS_SELECT, "value"),
        State(TICKET_PARTS_QTY, "value"),
        prevent_initial_call=True,
    )
    def record(_n: int, ticket_id: int | None, part: str | None, qty: object) -> tuple:
        try:
            user = require(Action.TICKET_USE_PARTS)
            if not part:
                raise PartError("Choose a part.")
            with db.session() as s:
                items = [(as_id(part), qty)]
                use_parts(session=s, ticket_id=ticket_id or 0, user=user, items=items)
        except (PartError, AccessDenied) as exc:
            alert = dbc.Alert(
                str(exc), color="danger", id=TICKET_PARTS_ERROR, className="py-2 mt-2"
            )
            return alert, dash.no_update, dash.no_update
        used, options, _hidden = _card(db, ticket_id or 0)
        ok = dbc.Alert(
            "Part recorded.",
            color="success",
            id=TICKET_PARTS_OK,
            duration=4000,
            className="py-2 mt-2",
        )
        return ok, used, options
