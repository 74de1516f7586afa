"""Machines page, the CSV import: the example file, the preview of an upload and the import
itself. Admins import; managers may download the example."""

from __future__ import annotations

import dash
from dash import Input, Output, State, dcc

from data.db import Database
from maintenance.fleet_admin.fleet_csv import EXAMPLE_CSV, ImportRefused, apply_import, plan_import
from maintenance.people.permissions import Action
from web.server.auth import AccessDenied, require
from web.views.admin_machines import ADMIN_MACHINES_REFRESH, note
from web.views.admin_machines_csv import (
    FLEET_CSV_DOWNLOAD,
    FLEET_CSV_EXAMPLE,
    FLEET_CSV_FEEDBACK,
    FLEET_CSV_IMPORT,
    FLEET_CSV_PREVIEW,
    FLEET_CSV_UPLOAD,
    UploadError,
    csv_preview,
    import_summary,
    upload_bytes,
)

__all__ = ["register_import"]


def register_import(app: dash.Dash, db: Database) -> None:
    @app.callback(
        Output(FLEET_CSV_DOWNLOAD, "data"),
        Input(FLEET_CSV_EXAMPLE, "n_clicks"),
        prevent_initial_call=True,
    )
    def example(_n: int) -> dict:
        require(Action.FLEET_ADMIN_VIEW)
        return dcc.send_string(EXAMPLE_CSV, "fleet-example.csv", type="text/csv")

    @app.callback(
        Output(FLEET_CSV_PREVIEW, "children"),
        Output(FLEET_CSV_IMPORT, "disabled"),
        Output(FLEET_CSV_FEEDBACK, "children"),
        Input(FLEET_CSV_UPLOAD, "contents"),
        State(FLEET_CSV_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def preview(contents: str | None, filename: str | None) -> tuple:
        if not contents:
            raise dash.exceptions.PreventUpdate  # cleared after an import
        try:
            require(Action.FLEET_ADMIN_EDIT)
            data = upload_bytes(contents)
        except (AccessDenied, UploadError) as exc:
            return note(str(exc), "warning", "csv-note"), True, ""
        with db.session() as s:
            plan = plan_import(session=s, data=data)
        return csv_preview(plan, filename or ""), not plan.importable, ""

    @app.callback(
        Output(FLEET_CSV_FEEDBACK, "children", allow_duplicate=True),
        Output(ADMIN_MACHINES_REFRESH, "data", allow_duplicate=True),
        Output(FLEET_CSV_PREVIEW, "children", allow_duplicate=True),
        Output(FLEET_CSV_IMPORT, "disabled", allow_duplicate=True),
        Output(FLEET_CSV_UPLOAD, "contents"),
        Input(FLEET_CSV_IMPORT, "n_clicks"),
        State(FLEET_CSV_UPLOAD, "contents"),
        State(FLEET_CSV_UPLOAD, "filename"),
        State(ADMIN_MACHINES_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def run_import(_n: int, contents: str | None, filename: str | None, refresh: int) -> tuple:
        keep = (dash.no_update,) * 4
        try:
            user = require(Action.FLEET_ADMIN_EDIT)
            data = upload_bytes(contents)
            with db.session() as s:
                plan = apply_import(session=s, data=data, user_id=user.id, filename=filename or "")
        except (AccessDenied, UploadError, ImportRefused) as exc:
            return note(str(exc), "warning", "csv-note"), *keep
        text = f"Imported {filename or 'the file'}: {import_summary(plan.counts(), done=True)}."
        return note(text, "success", "csv-note"), (refresh or 0) + 1, "", True, None
