"""Account page: the user's own open sessions; end one, or all but this browser's."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx

from config import Settings
from data.db import Database
from data.models import utcnow
from maintenance.people.permissions import Action
from maintenance.people.user_sessions import end_own_session, end_user_sessions, open_sessions
from web.server.auth import current_session_id, require, session_limits
from web.server.input_kinds import as_id
from web.views.account import (
    ACCOUNT_END,
    ACCOUNT_END_OTHERS,
    ACCOUNT_FEEDBACK,
    ACCOUNT_REFRESH,
    ACCOUNT_SESSIONS,
    ACCOUNT_WHO,
    sessions_table,
)

_FEEDBACK = Output(ACCOUNT_FEEDBACK, "children", allow_duplicate=True)
_REFRESH = Output(ACCOUNT_REFRESH, "data", allow_duplicate=True)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    limits = session_limits(settings)

    @app.callback(
        Output(ACCOUNT_WHO, "children"),
        Output(ACCOUNT_SESSIONS, "children"),
        Input(ACCOUNT_REFRESH, "data"),
    )
    def sessions(_refresh: int) -> tuple:
        user = require(Action.SESSION_OWN)
        now = utcnow()
        with db.session() as s:
            rows = open_sessions(session=s, user_id=user.id, limits=limits, now=now)
        who = f"Signed in as {user.username} ({user.role.value})."
        return who, sessions_table(rows, current_session_id(), now)

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        Input({"type": ACCOUNT_END, "session": ALL}, "n_clicks"),
        State(ACCOUNT_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def end_one(clicks: list, refresh: int) -> tuple:
        user = require(Action.SESSION_OWN)
        if not isinstance(ctx.triggered_id, dict) or not any(clicks):
            return dash.no_update, dash.no_update  # the buttons were drawn, not clicked
        with db.session() as s:
            ended = end_own_session(
                session=s,
                user_id=user.id,
                session_id=as_id(ctx.triggered_id["session"]),
                now=utcnow(),
            )
        text = "That session is signed out." if ended else "That session had ended already."
        return dbc.Alert(text, color="success", duration=6000), (refresh or 0) + 1

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        Input(ACCOUNT_END_OTHERS, "n_clicks"),
        State(ACCOUNT_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def end_others(_n: int, refresh: int) -> tuple:
        user = require(Action.SESSION_OWN)
        with db.session() as s:
            ended = end_user_sessions(
                session=s,
                user_id=user.id,
                now=utcnow(),
                reason="ended by the user",
                keep=current_session_id(),
            )
        text = f"Signed out {ended} other session{'' if ended == 1 else 's'}."
        return dbc.Alert(text, color="success", duration=6000), (refresh or 0) + 1
