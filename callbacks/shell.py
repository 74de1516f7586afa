"""The app shell: who is logged in, the red warning banner shown on every page, and the
low-stock badge managers see on every page."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html

from config import Settings
from data.db import Database
from maintenance.alarming.banner import RedWarning, acknowledge_warning, red_warnings
from maintenance.people.permissions import Action, allowed
from maintenance.rendering.human_units import format_duration, format_remaining
from maintenance.stock.spare_parts import PartRow, low_stock
from web.server.auth import AccessDenied, require
from web.views.shell import (
    ALARM_ACK,
    LOW_STOCK,
    LOW_STOCK_WARNING,
    NAV_USER,
    RED_BANNER,
    RED_TICK,
    URL,
    alarm_ack,
)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(Output(NAV_USER, "children"), Input(URL, "pathname"))
    def who(_path: str) -> str:
        user = require(Action.APP_USE)
        return f"{user.username} ({user.role.value})"

    @app.callback(
        Output(RED_BANNER, "children"),
        Input(RED_TICK, "n_intervals"),
        Input(URL, "pathname"),
    )
    def banner(_n: int, _path: str) -> list:
        user = require(Action.APP_USE)
        with db.session() as s:
            warnings = red_warnings(session=s)
        return [_warning(w, can_ack=allowed(user.role, Action.ALARM_ACKNOWLEDGE)) for w in warnings]

    @app.callback(
        Output(RED_BANNER, "children", allow_duplicate=True),
        Input({"type": ALARM_ACK, "alarm": ALL}, "n_clicks"),
        State(RED_BANNER, "children"),
        prevent_initial_call=True,
    )
    def ack(_clicks: list, shown: list) -> list:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        try:
            user = require(Action.ALARM_ACKNOWLEDGE)
        except AccessDenied as exc:
            return [dbc.Alert(str(exc), color="warning", dismissable=True), *(shown or [])]
        with db.session() as s:
            acknowledge_warning(session=s, alarm_id=ctx.triggered_id["alarm"], user_id=user.id)
            warnings = red_warnings(session=s)
        return [_warning(w, can_ack=True) for w in warnings]

    @app.callback(
        Output(LOW_STOCK, "children"),
        Input(RED_TICK, "n_intervals"),
        Input(URL, "pathname"),
    )
    def low_stock_warning(_n: int, _path: str) -> dbc.Alert | None:
        try:
            require(Action.PART_EDIT)  # the warning is for the people who reorder
        except AccessDenied:
            return None
        with db.session() as s:
            low = low_stock(s)
        return _low_stock(low) if low else None


def _low_stock(low: list[PartRow]) -> dbc.Alert:
    count = f"{len(low)} part" + ("" if len(low) == 1 else "s")
    names = ", ".join(p.number for p in low[:3]) + (", …" if len(low) > 3 else "")
    return dbc.Alert(
        [
            html.Strong(f"⚠ Low stock: {count}"),
            html.Span(f"at or below minimum: {names}."),
            html.A("Reorder on the Parts page", href="/parts", className="alert-link"),
        ],
        color="warning",
        className="py-1 px-2 mb-2 small d-inline-flex flex-wrap gap-2",
        id=LOW_STOCK_WARNING,
    )


def _warning(w: RedWarning, *, can_ack: bool) -> dbc.Alert:
    ack = (
        dbc.Button(
            "Acknowledge", id=alarm_ack(w.alarm_id), color="light", size="sm", className="ms-3"
        )
        if can_ack
        else None
    )
    headline = (
        f"⚠ {w.machine} has stopped."
        if w.kind == "stopped"
        else f"⚠ {w.machine} is predicted to fail."
    )
    return dbc.Alert(
        [
            html.Strong(headline, className="me-2"),
            html.Span(_detail(w), className="me-2 red-warning-detail"),
            html.A(f"Open {w.machine}", href=f"/machine/{w.machine}", className="alert-link me-2"),
            html.A("See its tickets", href="/tickets", className="alert-link"),
            ack,
        ],
        color="danger",
        className="mb-2 d-flex align-items-center red-warning",
        id=f"red-warning-{w.alarm_id}",
    )


def _detail(w: RedWarning) -> str:
    """What the warning is about now: how long the machine has stood, or the latest
    prediction's numbers (the alarm's typed columns, fresh every scoring); an alarm older
    than those columns shows its text."""
    now = datetime.now(UTC)
    if w.kind == "stopped":
        return f"Standing still for {format_duration((now - w.since).total_seconds())}."
    if w.failure_probability is None or w.predicted_at is None:
        return w.message or "Failure probability over the alarm threshold."
    rul = f" · remaining life {format_remaining(w.rul_hours)}" if w.rul_hours is not None else ""
    age = format_duration(round((now - w.predicted_at).total_seconds()))
    return f"Failure probability {w.failure_probability:.0%}{rul} (predicted {age} ago)."
