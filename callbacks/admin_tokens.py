"""API tokens page: list, create (the secret shown once), revoke. Admins only, checked on
the server in every callback."""

from __future__ import annotations

from datetime import timedelta

import dash
from dash import Input, Output, State

from config import Settings
from data.db import Database
from data.models import utcnow
from maintenance.people.api_tokens import TokenError, create_token, list_tokens, revoke_token
from maintenance.people.permissions import Action
from web.server.auth import require
from web.views.admin_tokens import (
    TOKENS_CREATE,
    TOKENS_DAYS,
    TOKENS_FEEDBACK,
    TOKENS_GRID,
    TOKENS_NAME,
    TOKENS_REFRESH,
    TOKENS_REVOKE,
    TOKENS_ROLE,
    TOKENS_SCOPES,
    TOKENS_SECRET,
    secret_card,
    token_note,
    token_rows,
)

_REFRESH = Output(TOKENS_REFRESH, "data", allow_duplicate=True)
_FEEDBACK = Output(TOKENS_FEEDBACK, "children", allow_duplicate=True)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(Output(TOKENS_GRID, "rowData"), Input(TOKENS_REFRESH, "data"))
    def grid(_refresh: int) -> list:
        require(Action.API_TOKEN_MANAGE)
        with db.session() as s:
            return token_rows(list_tokens(session=s), utcnow())

    @app.callback(
        Output(TOKENS_SECRET, "children"),
        _FEEDBACK,
        _REFRESH,
        Output(TOKENS_NAME, "value"),
        Input(TOKENS_CREATE, "n_clicks"),
        State(TOKENS_NAME, "value"),
        State(TOKENS_ROLE, "value"),
        State(TOKENS_SCOPES, "value"),
        State(TOKENS_DAYS, "value"),
        State(TOKENS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def create(
        _n: int,
        name: str | None,
        role: str | None,
        scopes: list[str] | None,
        days: float | None,
        seq: int,
    ) -> tuple:
        user = require(Action.API_TOKEN_MANAGE)
        expires = utcnow() + timedelta(days=float(days)) if days else None
        try:
            with db.session() as s:
                made = create_token(
                    session=s,
                    name=name or "",
                    role=role or "",
                    scopes=scopes or None,
                    expires_at=expires,
                    created_by=user.id,
                )
        except TokenError as err:
            return "", token_note(str(err), "danger"), dash.no_update, dash.no_update
        return secret_card(made.row.name, made.secret), "", seq + 1, ""

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        Output(TOKENS_SECRET, "children", allow_duplicate=True),
        Input(TOKENS_REVOKE, "n_clicks"),
        State(TOKENS_GRID, "selectedRows"),
        State(TOKENS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def revoke(_n: int, selected: list | None, seq: int) -> tuple:
        user = require(Action.API_TOKEN_MANAGE)
        if not selected:
            return token_note("Select a token first.", "warning"), dash.no_update, ""
        with db.session() as s:
            done = revoke_token(session=s, token_id=int(selected[0]["id"]), actor_id=user.id)
        name = selected[0].get("name", "")
        if not done:
            return token_note(f"{name} was revoked already.", "info"), dash.no_update, ""
        return (
            token_note(f"{name} is revoked: refused from its next request.", "success"),
            seq + 1,
            "",
        )
