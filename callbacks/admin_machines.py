"""Machines page: the grid, the machine form (create, edit, retire, reactivate) and the
integration hint; the CSV import is ``admin_machines_csv.py``'s. Admins write; managers read."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import dash
from dash import ALL, Input, Output, Patch, State, ctx
from sqlalchemy.exc import IntegrityError

from callbacks.admin_machines_csv import register_import
from config import Settings
from data.db import Database
from maintenance.fleet_admin.machine_admin import (
    create_machine,
    integration_hint,
    machine_detail,
    machine_rows,
    reactivate_machine,
    retire_machine,
    update_machine,
)
from maintenance.fleet_admin.machine_specs import FieldError, MachineError
from maintenance.people.permissions import Action, allowed
from web.server.auth import AccessDenied, require
from web.server.input_kinds import BadInput
from web.views.admin_machines import (
    ADMIN_MACHINE_FEEDBACK,
    ADMIN_MACHINE_ID,
    ADMIN_MACHINE_LINE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_NEW,
    ADMIN_MACHINE_PAYLOAD,
    ADMIN_MACHINE_REACTIVATE,
    ADMIN_MACHINE_RETIRE,
    ADMIN_MACHINE_SAVE,
    ADMIN_MACHINE_SHOW,
    ADMIN_MACHINE_TITLE,
    ADMIN_MACHINE_TOPIC,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINES_GRID,
    ADMIN_MACHINES_NOTE,
    ADMIN_MACHINES_REFRESH,
    ADMIN_SENSOR_ADD,
    ADMIN_SENSOR_ERROR,
    ADMIN_SENSOR_FIELD,
    ADMIN_SENSOR_ID,
    ADMIN_SENSOR_REMOVE,
    ADMIN_SENSOR_ROWS,
    ADMIN_SENSORS_ERROR,
    MACHINE_FIELDS,
    SENSOR_FIELDS,
    admin_machine_error,
    form_outputs,
    grid_rows,
    machine_raw,
    note,
    refused_outputs,
    save_outputs,
    saved_message,
    sensor_row,
)
from web.views.admin_machines_csv import FLEET_CSV_UPLOAD
from web.views.components import row_list_patch

_MACHINE_INPUTS = (
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_LINE,
)
_WRITE_BUTTONS = (
    ADMIN_MACHINE_NEW,
    ADMIN_MACHINE_SAVE,
    ADMIN_SENSOR_ADD,
    ADMIN_MACHINE_RETIRE,
    ADMIN_MACHINE_REACTIVATE,
    FLEET_CSV_UPLOAD,
)


def _sensors(kind: str, field: str | None = None) -> dict[str, object]:
    """A wildcard over every sensor row (and one field of it)."""
    return {"type": kind, "row": ALL} | ({"field": field} if field else {})


def _nonce() -> int:
    """A new value for the "show this machine" store, so the form reloads (milliseconds:
    JavaScript numbers hold them exactly)."""
    return time.time_ns() // 1_000_000


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    _register_form(app, db)
    _register_save(app, db)
    register_import(app, db)

    @app.callback(
        Output(ADMIN_MACHINE_TOPIC, "children"),
        Output(ADMIN_MACHINE_PAYLOAD, "children"),
        Input(ADMIN_MACHINE_NAME, "value"),
        Input(_sensors(ADMIN_SENSOR_FIELD, "key"), "value"),
    )
    def hint(name: str | None, keys: list[str | None]) -> tuple[str, str]:
        require(Action.FLEET_ADMIN_VIEW)
        found = integration_hint(
            prefix=settings.mqtt_topic_prefix,
            name=(name or "").strip(),
            keys=[(k or "").strip() for k in keys],
            now=datetime.now(UTC),
        )
        return found.topic, found.payload


def _register_form(app: dash.Dash, db: Database) -> None:
    @app.callback(
        Output(ADMIN_MACHINES_GRID, "rowData"),
        Output(ADMIN_MACHINES_NOTE, "children"),
        *[Output(b, "disabled") for b in _WRITE_BUTTONS],
        Input(ADMIN_MACHINES_REFRESH, "data"),
    )
    def grid(_refresh: int) -> tuple:
        user = require(Action.FLEET_ADMIN_VIEW)
        with db.session() as s:
            rows = grid_rows(machine_rows(session=s))
        read_only = not allowed(user.role, Action.FLEET_ADMIN_EDIT)
        text = "You may look; only admins change machines." if read_only else ""
        text = note(text, "info", "machines-read-only") if read_only else ""
        return rows, text, *[read_only] * len(_WRITE_BUTTONS)

    @app.callback(
        Output(ADMIN_MACHINE_SHOW, "data"),
        Output(ADMIN_MACHINES_GRID, "selectedRows"),
        Output(ADMIN_MACHINE_FEEDBACK, "children"),
        Input(ADMIN_MACHINES_GRID, "selectedRows"),
        Input(ADMIN_MACHINE_NEW, "n_clicks"),
        State(ADMIN_MACHINE_SHOW, "data"),
        prevent_initial_call=True,
    )
    def choose(selected: list | None, _new: int, show: dict | None) -> tuple:
        require(Action.FLEET_ADMIN_VIEW)
        nonce = _nonce()  # a new value reloads the form
        if ctx.triggered_id == ADMIN_MACHINE_NEW:
            return {"id": None, "n": nonce}, [], ""
        if not selected or int(selected[0]["id"]) == (show or {}).get("id"):
            raise dash.exceptions.PreventUpdate  # deselected, or the grid reloaded
        return {"id": int(selected[0]["id"]), "n": nonce}, dash.no_update, ""

    @app.callback(
        *[Output(c, "value") for c in _MACHINE_INPUTS],
        Output(ADMIN_SENSOR_ROWS, "children"),
        Output(ADMIN_MACHINE_ID, "data"),
        Output(ADMIN_MACHINE_TITLE, "children"),
        Output(ADMIN_MACHINE_RETIRE, "style"),
        Output(ADMIN_MACHINE_REACTIVATE, "style"),
        *[Output(admin_machine_error(f), "children") for f in MACHINE_FIELDS],
        *[Output(c, "invalid") for c in _MACHINE_INPUTS],
        Output(ADMIN_SENSORS_ERROR, "children"),
        Input(ADMIN_MACHINE_SHOW, "data"),
    )
    def load(show: dict | None) -> tuple:
        require(Action.FLEET_ADMIN_VIEW)
        machine_id = (show or {}).get("id")
        with db.session() as s:
            detail = machine_detail(session=s, machine_id=int(machine_id)) if machine_id else None
        return form_outputs(detail)

    @app.callback(
        Output(ADMIN_SENSOR_ROWS, "children", allow_duplicate=True),
        Input(ADMIN_SENSOR_ADD, "n_clicks"),
        Input(_sensors(ADMIN_SENSOR_REMOVE), "n_clicks"),
        State(_sensors(ADMIN_SENSOR_ID), "id"),
        prevent_initial_call=True,
    )
    def rows(_add: int | None, _remove: list, row_ids: list[dict]) -> Patch:
        try:
            require(Action.FLEET_ADMIN_EDIT)
        except AccessDenied:
            raise dash.exceptions.PreventUpdate from None
        return row_list_patch(ADMIN_SENSOR_ADD, row_ids, lambda row: sensor_row(row, None))


def _register_save(app: dash.Dash, db: Database) -> None:
    @app.callback(
        Output(ADMIN_MACHINE_FEEDBACK, "children", allow_duplicate=True),
        Output(ADMIN_MACHINES_REFRESH, "data"),
        Output(ADMIN_MACHINE_SHOW, "data", allow_duplicate=True),
        *[Output(admin_machine_error(f), "children", allow_duplicate=True) for f in MACHINE_FIELDS],
        *[Output(c, "invalid", allow_duplicate=True) for c in _MACHINE_INPUTS],
        Output(ADMIN_SENSORS_ERROR, "children", allow_duplicate=True),
        *[Output(_sensors(ADMIN_SENSOR_ERROR, f), "children") for f in SENSOR_FIELDS],
        *[Output(_sensors(ADMIN_SENSOR_FIELD, f), "invalid") for f in SENSOR_FIELDS],
        Input(ADMIN_MACHINE_SAVE, "n_clicks"),
        State(ADMIN_MACHINE_ID, "data"),
        *[State(c, "value") for c in _MACHINE_INPUTS],
        State(_sensors(ADMIN_SENSOR_ID), "data"),
        *[State(_sensors(ADMIN_SENSOR_FIELD, f), "value") for f in SENSOR_FIELDS],
        State(ADMIN_MACHINES_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(_n: int, machine_id: int | None, *form: object) -> tuple:
        values, sensor_ids, columns, refresh = form[:4], form[4], form[5:-1], form[-1]
        rows = len(sensor_ids)
        shown = [*columns, *ctx.outputs_list[-2 * len(SENSOR_FIELDS) :]]
        if any(len(c) != rows for c in shown):
            raise BadInput("the sensor rows do not match")  # never sent by a browser
        try:
            user = require(Action.FLEET_ADMIN_EDIT)
        except AccessDenied as exc:
            return refused_outputs(str(exc), rows)
        raw = machine_raw(values, sensor_ids, columns)
        try:
            with db.session() as s:
                if machine_id is None:
                    result = create_machine(session=s, raw=raw, user_id=user.id)
                else:
                    result = update_machine(
                        session=s, machine_id=machine_id, raw=raw, user_id=user.id
                    )
        except MachineError as err:
            return save_outputs("", dash.no_update, dash.no_update, err.errors, rows)
        except IntegrityError:  # another admin stored the same name a moment ago
            taken = [FieldError("name", "A machine with this name was just created.")]
            return save_outputs("", dash.no_update, dash.no_update, taken, rows)
        show = {"id": result.machine_id, "n": _nonce()}  # reload the form from the db
        message = saved_message(result, created=machine_id is None)
        return save_outputs(message, (refresh or 0) + 1, show, [], rows)

    @app.callback(
        Output(ADMIN_MACHINE_FEEDBACK, "children", allow_duplicate=True),
        Output(ADMIN_MACHINES_REFRESH, "data", allow_duplicate=True),
        Output(ADMIN_MACHINE_SHOW, "data", allow_duplicate=True),
        Input(ADMIN_MACHINE_RETIRE, "n_clicks"),
        Input(ADMIN_MACHINE_REACTIVATE, "n_clicks"),
        State(ADMIN_MACHINE_ID, "data"),
        State(ADMIN_MACHINES_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def retirement(_retire: int, _back: int, machine_id: int | None, refresh: int) -> tuple:
        try:
            user = require(Action.FLEET_ADMIN_EDIT)
        except AccessDenied as exc:
            return note(str(exc), "warning"), dash.no_update, dash.no_update
        if machine_id is None:
            raise dash.exceptions.PreventUpdate
        retiring = ctx.triggered_id == ADMIN_MACHINE_RETIRE
        change = retire_machine if retiring else reactivate_machine
        with db.session() as s:
            done = change(session=s, machine_id=int(machine_id), user_id=user.id)
        text = (
            "Retired: its history stays; it left the fleet and its readings are refused."
            if retiring
            else "Back in service: it is on the fleet page and its readings are accepted."
        )
        if not done:
            text = "Nothing to do: someone else changed it already."
        bump = (refresh or 0) + 1
        show = {"id": machine_id, "n": _nonce()}
        return note(text, "success" if done else "info"), bump, show
