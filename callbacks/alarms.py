"""Alarms page: the grid, acknowledge / clear the selected rows, maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html

from config import Settings
from data.db import Database
from data.fleet_queries import machine_names
from maintenance.alarming.raise_clear import AlarmRow, acknowledge, clear, list_alarms
from maintenance.machine_status.maintenance_windows import (
    SilenceError,
    SilenceRow,
    active_silences,
    cancel_silence,
    silence_machine,
)
from maintenance.people.permissions import Action, allowed
from web.server.auth import AccessDenied, require
from web.server.input_kinds import as_id
from web.views.alarms import (
    ALARMS_ACK,
    ALARMS_CLEAR,
    ALARMS_FEEDBACK,
    ALARMS_GRID,
    ALARMS_NOTE,
    ALARMS_RANGE,
    ALARMS_REFRESH,
    ALARMS_TICK,
    SILENCE_CANCEL,
    SILENCE_FEEDBACK,
    SILENCE_HOURS,
    SILENCE_LIST,
    SILENCE_MACHINE,
    SILENCE_NONE,
    SILENCE_REASON,
    SILENCE_SUBMIT,
    silence_cancel,
    silence_error,
)
from web.views.components import age

_FIELDS = ("machine", "hours", "reason")


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(ALARMS_GRID, "rowData"),
        Output(SILENCE_LIST, "children"),
        Output(SILENCE_MACHINE, "options"),
        Input(ALARMS_RANGE, "value"),
        Input(ALARMS_TICK, "n_intervals"),
        Input(ALARMS_REFRESH, "data"),
    )
    def grid(range_key: str, _n: int, _refresh: int) -> tuple:
        user = require(Action.ALARM_VIEW)
        now = datetime.now(UTC)
        days = 0 if range_key == "active" else int(range_key or 7)
        with db.session() as s:
            rows = list_alarms(session=s, since=now - timedelta(days=days) if days else now)
            windows = active_silences(session=s, now=now)
            names = machine_names(session=s)
        if range_key == "active":
            rows = [r for r in rows if r.cleared_at is None]
        options = [{"label": n, "value": str(i)} for i, n in sorted(names.items(), key=_by_name)]
        return (
            [_row(r, now) for r in rows],
            _windows(windows, allowed(user.role, Action.ALARM_SILENCE)),
            options,
        )

    @app.callback(
        Output(ALARMS_FEEDBACK, "children"),
        Output(ALARMS_REFRESH, "data"),
        Input(ALARMS_ACK, "n_clicks"),
        Input(ALARMS_CLEAR, "n_clicks"),
        State(ALARMS_GRID, "selectedRows"),
        State(ALARMS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def act(_ack: int, _clear: int, selected: list | None, refresh: int) -> tuple:
        clearing = ctx.triggered_id == ALARMS_CLEAR
        try:
            user = require(Action.ALARM_CLEAR if clearing else Action.ALARM_ACKNOWLEDGE)
        except AccessDenied as exc:
            return _note(str(exc), "warning"), dash.no_update
        chosen = [as_id(r["id"]) for r in selected or [] if "id" in r]
        if not chosen:
            return _note("Select one or more alarms first.", "info"), dash.no_update
        action = clear if clearing else acknowledge
        with db.session() as s:
            done = sum(action(session=s, alarm_id=a, user_id=user.id) for a in chosen)
        verb = "Cleared" if clearing else "Acknowledged"
        skipped = len(chosen) - done
        text = f"{verb} {done} alarm{'s' * (done != 1)}" + (
            f" ({skipped} already {verb.lower()})." if skipped else "."
        )
        return _note(text, "success"), (refresh or 0) + 1

    @app.callback(
        Output(SILENCE_FEEDBACK, "children"),
        Output(ALARMS_REFRESH, "data", allow_duplicate=True),
        *[Output(silence_error(f), "children") for f in _FIELDS],
        *[Output(c, "invalid") for c in (SILENCE_MACHINE, SILENCE_HOURS, SILENCE_REASON)],
        Input(SILENCE_SUBMIT, "n_clicks"),
        State(SILENCE_MACHINE, "value"),
        State(SILENCE_HOURS, "value"),
        State(SILENCE_REASON, "value"),
        State(ALARMS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def silence(
        _n: int, machine: str | None, hours: float | None, reason: str | None, refresh: int
    ):
        clean = ("", "", "", False, False, False)
        try:
            user = require(Action.ALARM_SILENCE)
        except AccessDenied as exc:
            return (_note(str(exc), "warning"), dash.no_update, *clean)
        try:
            with db.session() as s:
                window = silence_machine(
                    session=s,
                    machine_id=as_id(machine) if machine else None,
                    hours=float(hours) if hours is not None else None,
                    reason=reason or "",
                    user_id=user.id,
                )
                until = window.ends_at
        except SilenceError as err:
            errors = {f: (str(err) if f == err.field else "") for f in _FIELDS}
            return ("", dash.no_update, *errors.values(), *(bool(errors[f]) for f in _FIELDS))
        text = f"Alarms silenced until {until:%Y-%m-%d %H:%M} UTC."
        return (_note(text, "success"), (refresh or 0) + 1, *clean)

    @app.callback(
        Output(SILENCE_FEEDBACK, "children", allow_duplicate=True),
        Output(ALARMS_REFRESH, "data", allow_duplicate=True),
        Input({"type": SILENCE_CANCEL, "silence": ALL}, "n_clicks"),
        State(ALARMS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def cancel(_clicks: list, refresh: int) -> tuple:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        try:
            user = require(Action.ALARM_SILENCE)
        except AccessDenied as exc:
            return _note(str(exc), "warning"), dash.no_update
        with db.session() as s:
            cancel_silence(session=s, silence_id=ctx.triggered_id["silence"], user_id=user.id)
        return _note("Maintenance window ended: alarms alert again.", "success"), (refresh or 0) + 1


def _by_name(item: tuple[int, str]) -> str:
    return item[1]


def _row(r: AlarmRow, now: datetime) -> dict:
    return {
        "id": str(r.id),  # AG Grid row ids are strings
        "raised": r.raised_at.strftime("%Y-%m-%d %H:%M:%S"),
        "age": age(r.raised_at),
        "machine": f"[{r.machine}](/machine/{r.machine})",
        "code": r.code,
        "severity": r.severity,
        "source": r.source,
        "state": _state(r),
        "ticket": f"[#{r.ticket_id}](/ticket/{r.ticket_id})" if r.ticket_id else "",
        "value": r.reading,  # typed columns; empty for alarms older than them
        "message": r.message,
    }


def _state(r: AlarmRow) -> str:
    """Its state and who brought it there: "acknowledged by anna", "cleared by auto" (the
    rule or model that raised it saw it end), ", silenced" in a maintenance window."""
    state = r.state
    if state == "acknowledged" and r.acknowledged_by:
        state += f" by {r.acknowledged_by}"
    elif state == "cleared":
        state += f" by {r.cleared_by or 'auto'}"
    return f"{state}, silenced" if r.silenced else state


def _note(text: str, color: str) -> dbc.Alert:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2", id=ALARMS_NOTE)


def _windows(rows: list[SilenceRow], can_end: bool) -> html.Div:
    if not rows:
        return html.Small("No maintenance window is open.", className="text-muted", id=SILENCE_NONE)
    return dbc.ListGroup(
        [
            dbc.ListGroupItem(
                html.Div(
                    [
                        html.Div(
                            [
                                html.Strong(w.machine, className="me-2"),
                                html.Span(
                                    f"silenced until {w.ends_at:%Y-%m-%d %H:%M} UTC: {w.reason}",
                                ),
                                html.Small(f" (by {w.created_by})", className="text-muted"),
                            ]
                        ),
                        dbc.Button(
                            "End now",
                            id=silence_cancel(w.id),
                            size="sm",
                            color="outline-secondary",
                        )
                        if can_end
                        else None,
                    ],
                    className="d-flex justify-content-between align-items-center",
                ),
                className="silence-window",
            )
            for w in rows
        ]
    )
