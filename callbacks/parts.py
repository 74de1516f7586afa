"""Spare parts page: the inventory and low-stock warning for everyone who may read it,
creating and adjusting parts for managers and admins (checked on the server)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action, allowed
from maintenance.stock.spare_parts import PartError, PartRow, list_parts, low_stock, save_part
from web.server.auth import AccessDenied, require
from web.views.parts import (
    PARTS_EDITOR,
    PARTS_ERROR,
    PARTS_FEEDBACK,
    PARTS_GRID,
    PARTS_ID,
    PARTS_LOW,
    PARTS_LOW_ALERT,
    PARTS_MIN,
    PARTS_NAME,
    PARTS_NEW,
    PARTS_NUMBER,
    PARTS_OK,
    PARTS_REFRESH,
    PARTS_SAVE,
    PARTS_STOCK,
    PARTS_TYPES,
    PARTS_UNIT,
)

_FIELDS = ("number", "name", "stock", "min_stock")


def _row(p: PartRow) -> dict:
    return {
        "id": str(p.id),  # AG Grid row ids are strings
        "number": p.number,
        "name": p.name,
        "unit": p.unit,
        "stock": p.stock,
        "min_stock": p.min_stock,
        "machine_types": ", ".join(p.machine_types),
        "low": p.low,
    }


def _low_alert(low: list[PartRow]) -> object:
    if not low:
        return None
    names = ", ".join(f"{p.number} ({p.stock} {p.unit} left, min {p.min_stock})" for p in low)
    return dbc.Alert(
        [dbc.Badge(f"Low stock: {len(low)}", color="dark", className="me-2"), f"Reorder {names}."],
        color="warning",
        id=PARTS_LOW_ALERT,
        className="py-2",
    )


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(PARTS_GRID, "rowData"),
        Output(PARTS_LOW, "children"),
        Output(PARTS_EDITOR, "style"),
        Input(PARTS_REFRESH, "data"),
    )
    def show(_refresh: int) -> tuple:
        user = require(Action.PART_VIEW)
        with db.session() as s:
            rows, low = list_parts(session=s), low_stock(s)
        edits = allowed(user.role, Action.PART_EDIT)  # the warning: for those who reorder
        editor = {} if edits else {"display": "none"}
        return [_row(p) for p in rows], _low_alert(low) if edits else None, editor

    @app.callback(
        Output(PARTS_ID, "data"),
        Output(PARTS_NUMBER, "value"),
        Output(PARTS_NAME, "value"),
        Output(PARTS_UNIT, "value"),
        Output(PARTS_STOCK, "value"),
        Output(PARTS_MIN, "value"),
        Output(PARTS_TYPES, "value"),
        Input(PARTS_GRID, "selectedRows"),
        Input(PARTS_NEW, "n_clicks"),
        prevent_initial_call=True,
    )
    def pick(selected: list | None, _new: int | None) -> tuple:
        require(Action.PART_VIEW)
        if ctx.triggered_id == PARTS_NEW or not selected:
            return None, "", "", "pcs", None, None, ""
        r = selected[0]
        return (
            int(r["id"]),
            r["number"],
            r["name"],
            r["unit"],
            r["stock"],
            r["min_stock"],
            r["machine_types"],
        )

    @app.callback(
        Output(PARTS_FEEDBACK, "children"),
        Output(PARTS_REFRESH, "data"),
        Output(PARTS_ID, "data", allow_duplicate=True),
        *(Output(i, "invalid") for i in (PARTS_NUMBER, PARTS_NAME, PARTS_STOCK, PARTS_MIN)),
        Input(PARTS_SAVE, "n_clicks"),
        State(PARTS_ID, "data"),
        State(PARTS_NUMBER, "value"),
        State(PARTS_NAME, "value"),
        State(PARTS_UNIT, "value"),
        State(PARTS_STOCK, "value"),
        State(PARTS_MIN, "value"),
        State(PARTS_TYPES, "value"),
        State(PARTS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(_n: int, part_id, number, name, unit, stock, min_stock, types, refresh) -> tuple:
        try:
            user = require(Action.PART_EDIT)
            with db.session() as s:
                saved = save_part(
                    session=s,
                    user=user,
                    number=number,
                    name=name,
                    unit=unit,
                    stock=stock,
                    min_stock=min_stock,
                    machine_types=(types or "").split(","),
                    part_id=part_id,
                )
        except (PartError, AccessDenied) as exc:
            field = getattr(exc, "field", "")
            alert = dbc.Alert(str(exc), color="danger", id=PARTS_ERROR, className="py-2")
            return alert, dash.no_update, dash.no_update, *(f == field for f in _FIELDS)
        ok = dbc.Alert(
            f"Saved {saved.number}: {saved.stock} {saved.unit} in stock.",
            color="success",
            id=PARTS_OK,
            duration=4000,
            className="py-2",
        )
        return ok, (refresh or 0) + 1, saved.id, *(False for _ in _FIELDS)
