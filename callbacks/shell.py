"""The app shell: the red warning banner shown on every page, the low-stock badge managers
see on every page (one callback for both), the alert of a session that has ended, and the
alert of a refused request closing when the page changes."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx

from config import Settings
from data.db import Database
from maintenance.alarming.banner import acknowledge_warning, red_warnings
from maintenance.people.permissions import Action, allowed
from maintenance.stock.spare_parts import low_stock
from web.server.auth import AccessDenied, identity, require
from web.views.shell import (
    ALARM_ACK,
    RED_BANNER,
    RED_TICK,
    REFUSAL,
    SESSION_STATE_OUTPUTS,
    SESSION_TICK,
    SHELL_OUTPUTS,
    URL,
    low_stock_alert,
    red_warning,
    sign_in_link,
    user_label,
)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(Output(REFUSAL, "is_open"), Input(URL, "pathname"), prevent_initial_call=True)
    def refusal_gone(_path: str) -> bool:
        """A refusal's message (web/server/refusals.py) belongs to the page it came from."""
        require(Action.APP_USE)
        return False

    @app.callback(
        [Output(c, p) for c, p in SESSION_STATE_OUTPUTS],
        Input(SESSION_TICK, "n_intervals"),
        prevent_initial_call=True,  # the page was just served: the session is valid
    )
    def session_state(_n: int) -> tuple:
        """The one callback open without a session (web/server/auth.py ``PUBLIC_CALLBACKS``):
        it says only whether this request's session is valid. Signed in: nothing changes
        (204). Signed out (sign-out elsewhere, password change, "sign out everywhere", a
        timeout): the alert opens, the timers stop and the page goes, so nothing goes on
        asking for what the server must refuse."""
        if identity() is not None:
            raise dash.exceptions.PreventUpdate
        return True, True, True, []

    @app.callback(
        [Output(c, p) for c, p in SHELL_OUTPUTS],
        Input(RED_TICK, "n_intervals"),
        Input(URL, "pathname"),
    )
    def shell(_n: int, path: str) -> tuple:
        """One request for what the frame shows on every page load and every tick: the red
        banner, the low-stock warning (for the people who reorder), and the "Sign in" link
        of the session-ended alert, back to this page (set while the user is still signed
        in, ready for when the session ends), and the menu bar's name and role."""
        user = require(Action.APP_USE)
        with db.session() as s:
            warnings = red_warnings(session=s)
            low = low_stock(s) if allowed(user.role, Action.PART_EDIT) else []
        can_ack = allowed(user.role, Action.ALARM_ACKNOWLEDGE)
        return (
            [red_warning(w, can_ack=can_ack) for w in warnings],
            low_stock_alert(low) if low else None,
            sign_in_link(path),
            user_label(user.username, user.role.value),
        )

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
        return [red_warning(w, can_ack=True) for w in warnings]
