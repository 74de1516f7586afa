"""SOP library: search, read any version, and (engineers, admins) edit with a preview;
every callback checks the role on the server."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action, allowed
from maintenance.procedures.sop_library import get_sop, list_sops, save_sop
from maintenance.procedures.sop_text import SopError, check_code, template, without_front_matter
from web.server.auth import AccessDenied, require
from web.views.sops import (
    SOP_PREVIEW_RENDERED,
    SOPS_BASE,
    SOPS_BODY,
    SOPS_CODE,
    SOPS_EDITOR,
    SOPS_ERROR,
    SOPS_FEEDBACK,
    SOPS_HEADER,
    SOPS_HISTORY,
    SOPS_LIST,
    SOPS_OK,
    SOPS_PREVIEW,
    SOPS_REFRESH,
    SOPS_SAVE,
    SOPS_SEARCH,
    SOPS_TEXT,
    SOPS_TEXT_ERROR,
    SOPS_VERSION,
    missing_sop,
    sop_body,
    sop_header,
    sop_list,
    version_history,
)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(SOPS_LIST, "children"),
        Input(SOPS_SEARCH, "value"),
        Input(SOPS_REFRESH, "data"),
        State(SOPS_CODE, "data"),
    )
    def listing(search: str | None, _refresh: int, code: str) -> object:
        require(Action.SOP_VIEW)
        with db.session() as s:
            return sop_list(list_sops(session=s, search=search or ""), code)

    @app.callback(
        Output(SOPS_VERSION, "options"),
        Output(SOPS_VERSION, "value"),
        Output(SOPS_VERSION, "style"),
        Output(SOPS_EDITOR, "hidden"),
        Output(SOPS_TEXT, "value"),
        Output(SOPS_BASE, "data"),
        Input(SOPS_CODE, "data"),
        Input(SOPS_REFRESH, "data"),
    )
    def show(code: str, _refresh: int) -> tuple:
        user = require(Action.SOP_VIEW)
        with db.session() as s:
            view = get_sop(session=s, code=code) if code else None
        can_edit = allowed(user.role, Action.SOP_EDIT) and _valid(code)
        text = (view.body if view else template(code)) if can_edit else dash.no_update
        base = view.current_version if view else None
        if view is None:
            return [], None, {"display": "none"}, not can_edit, text, base
        options = [
            {"label": f"Version {v.version} · {v.author}", "value": str(v.version)}
            for v in view.versions
        ]
        version = str(view.current_version)
        return options, version, {"maxWidth": "16rem"}, not can_edit, text, base

    @app.callback(
        Output(SOPS_HEADER, "children"),
        Output(SOPS_BODY, "children"),
        Output(SOPS_HISTORY, "children"),
        Input(SOPS_VERSION, "value"),  # set again by ``show`` after every save
        State(SOPS_CODE, "data"),
    )
    def version(chosen: str | None, code: str) -> tuple:
        user = require(Action.SOP_VIEW)
        with db.session() as s:
            number = int(chosen) if chosen and chosen.isdigit() else None
            view = get_sop(session=s, code=code, version=number) if code else None
        if view is None:
            return missing_sop(code, can_write=allowed(user.role, Action.SOP_EDIT)), None, None
        return sop_header(view), sop_body(view), version_history(view)

    @app.callback(
        Output(SOPS_PREVIEW, "children"),
        Output(SOPS_TEXT, "invalid", allow_duplicate=True),
        Input(SOPS_TEXT, "value"),
        prevent_initial_call=True,  # the text arrives from ``show``
    )
    def preview(text: str | None) -> tuple:
        require(Action.SOP_EDIT)
        # the message of a refused save stays until the author changes the text
        return dcc.Markdown(without_front_matter(text or ""), id=SOP_PREVIEW_RENDERED), False

    @app.callback(
        Output(SOPS_TEXT, "invalid"),
        Output(SOPS_TEXT_ERROR, "children"),
        Output(SOPS_FEEDBACK, "children"),
        Output(SOPS_REFRESH, "data"),
        Input(SOPS_SAVE, "n_clicks"),
        State(SOPS_CODE, "data"),
        State(SOPS_TEXT, "value"),
        State(SOPS_BASE, "data"),
        State(SOPS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(_n: int, code: str, text: str | None, base: int | None, refresh: int) -> tuple:
        try:
            user = require(Action.SOP_EDIT)
            with db.session() as s:
                number = save_sop(session=s, code=code, text=text, user=user, base_version=base)
        except AccessDenied as exc:
            return False, "", dbc.Alert(str(exc), color="danger", id=SOPS_ERROR), dash.no_update
        except SopError as exc:
            return True, str(exc), None, dash.no_update
        saved = dbc.Alert(
            f"Saved {code} as version {number}.", color="success", duration=4000, id=SOPS_OK
        )
        return False, "", saved, (refresh or 0) + 1


def _valid(code: str) -> bool:
    try:
        check_code(code)
    except SopError:
        return False
    return True
