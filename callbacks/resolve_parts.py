"""The resolve dialog's spare-parts picker, for either dialog: one empty row as it opens (the
parts for the ticket's machine type, and no old messages), rows added and removed. Nothing
is taken from stock here: the Resolve button does that, in the resolution's transaction."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, Patch, State

from data.db import Database
from maintenance.people.permissions import Action
from maintenance.stock.spare_parts import parts_for_ticket
from web.server.auth import AccessDenied, require
from web.server.input_kinds import as_id
from web.views.components import row_list_patch
from web.views.resolve_dialog import DialogIds, message_outputs, part_row, part_rows
from web.views.resolve_form import messages
from web.views.ticket_parts import part_options

__all__ = ["register_parts"]


def _options(db: Database, ticket_id: int | None) -> list[dict]:
    ticket = as_id(ticket_id) if ticket_id else 0  # no ticket yet: the untyped parts
    with db.session() as s:
        return part_options(parts_for_ticket(session=s, ticket_id=ticket))


def register_parts(app: dash.Dash, db: Database, i: DialogIds, ticket: State) -> None:
    """``ticket``: where the page keeps the id of the ticket being resolved."""

    @app.callback(
        Output(i.parts, "children"),
        Output(i.parts_add, "style"),
        *message_outputs(i, again=True),
        Input(i.modal, "is_open"),
        ticket,
        prevent_initial_call=True,
    )
    def reset(is_open: bool, ticket_id: int | None) -> tuple:
        if not is_open:
            raise dash.exceptions.PreventUpdate
        require(Action.TICKET_WORK)
        rows, none_fit = part_rows(i, _options(db, ticket_id))
        return rows, {"display": "none"} if none_fit else {}, *messages({})

    @app.callback(
        Output(i.parts, "children", allow_duplicate=True),
        Input(i.parts_add, "n_clicks"),
        Input(i.part_field(ALL, "remove"), "n_clicks"),
        State(i.part_field(ALL, "part"), "id"),
        ticket,
        prevent_initial_call=True,
    )
    def rows(_add: int, _remove: list, row_ids: list[dict], ticket_id: int | None) -> Patch:
        try:
            require(Action.TICKET_WORK)
        except AccessDenied:
            raise dash.exceptions.PreventUpdate from None
        return row_list_patch(
            i.parts_add, row_ids, lambda row: part_row(i, row, _options(db, ticket_id))
        )
