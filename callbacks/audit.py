"""Audit page: the entries of a date range in the grid and the matching CSV link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output

from config import Settings
from data.db import Database
from maintenance.ops.audit_trail import audit_rows
from maintenance.people.permissions import Action
from web.server.auth import AccessDenied, require
from web.views.audit import AUDIT_CSV, AUDIT_ERROR, AUDIT_GRID, AUDIT_RANGE
from web.views.reports import RangeError, parse_day_range


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(AUDIT_RANGE, "start_date"),
        Output(AUDIT_RANGE, "end_date"),
        Input(AUDIT_GRID, "id"),
    )
    def default_range(_id: str) -> tuple[str, str]:
        require(Action.AUDIT_VIEW)
        today = datetime.now(UTC).date()
        return (today - timedelta(days=6)).isoformat(), today.isoformat()

    @app.callback(
        Output(AUDIT_GRID, "rowData"),
        Output(AUDIT_CSV, "href"),
        Output(AUDIT_ERROR, "children"),
        Input(AUDIT_RANGE, "start_date"),
        Input(AUDIT_RANGE, "end_date"),
    )
    def rows(start: str | None, end: str | None) -> tuple:
        try:
            require(Action.AUDIT_VIEW)
            first, stop = parse_day_range((start or "")[:10], (end or "")[:10])
        except (AccessDenied, RangeError) as err:
            return [], None, dbc.Alert(str(err), color="warning")
        with db.session() as s:
            found = audit_rows(session=s, start=first, end=stop)
        data = [
            {
                "id": str(r.id),  # AG Grid row ids are strings
                "ts": r.ts.strftime("%Y-%m-%d %H:%M:%S"),
                "user": r.user,
                "action": r.action,
                "entity": r.entity,
                "entity_id": r.entity_id,
                "change": r.change(),
            }
            for r in found
        ]
        query = urlencode({"start": start[:10], "end": end[:10]})
        return data, f"/audit/export.csv?{query}", ""
