"""Notifications page: the channel grid and form (create, edit, deactivate, send a test)
and the delivery log. Admins write; managers read; every callback checks on the server."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx

from config import Settings
from data.db import Database
from maintenance.notify.channels import (
    ChannelError,
    get_channel,
    list_channels,
    save_channel,
    set_channel_active,
)
from maintenance.notify.outbox import delivery_log, enqueue_test
from maintenance.people.permissions import Action, allowed
from web.server.auth import AccessDenied, require
from web.views.admin_notifications import (
    FORM_FIELDS,
    NOTIFY_ACTIVE,
    NOTIFY_CHANNEL_ID,
    NOTIFY_CHANNELS_GRID,
    NOTIFY_EVENTS,
    NOTIFY_FEEDBACK,
    NOTIFY_FORM_TITLE,
    NOTIFY_KIND,
    NOTIFY_LOG_GRID,
    NOTIFY_NAME,
    NOTIFY_NEW,
    NOTIFY_NOTE,
    NOTIFY_REFRESH,
    NOTIFY_SAVE,
    NOTIFY_SECRET,
    NOTIFY_TARGET,
    NOTIFY_TEST,
    NOTIFY_TICK,
    channel_rows,
    empty_form,
    filled_form,
    log_rows,
    note,
    notify_error,
)

_CONTROLS = (NOTIFY_NAME, NOTIFY_KIND, NOTIFY_TARGET, NOTIFY_SECRET)
_FORM = (
    *[Output(c, "value") for c in _CONTROLS],
    Output(NOTIFY_EVENTS, "value"),
    Output(NOTIFY_CHANNEL_ID, "data"),
    Output(NOTIFY_FORM_TITLE, "children"),
    Output(NOTIFY_TEST, "disabled"),
    Output(NOTIFY_ACTIVE, "disabled"),
    Output(NOTIFY_ACTIVE, "children"),
)
_ERRORS = (
    *[Output(notify_error(f), "children", allow_duplicate=True) for f in FORM_FIELDS],
    *[Output(c, "invalid", allow_duplicate=True) for c in _CONTROLS],
    Output(notify_error("events"), "children", allow_duplicate=True),
)
_FEEDBACK = Output(NOTIFY_FEEDBACK, "children", allow_duplicate=True)
_REFRESH = Output(NOTIFY_REFRESH, "data", allow_duplicate=True)


def _errors(err: ChannelError | None = None) -> tuple:
    field = err.field if err else ""
    messages = [str(err) if field == f else "" for f in FORM_FIELDS]
    return *messages, *(bool(m) for m in messages), str(err) if field == "events" else ""


# what the page says of an email channel while the worker has no mail server to send with
NO_MAIL_SERVER = "No mail server is configured (PDM_SMTP_HOST is not set)"


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(NOTIFY_CHANNELS_GRID, "rowData"),
        Output(NOTIFY_LOG_GRID, "rowData"),
        Output(NOTIFY_NOTE, "children"),
        Output(NOTIFY_NEW, "disabled"),
        Output(NOTIFY_SAVE, "disabled"),
        Input(NOTIFY_REFRESH, "data"),
        Input(NOTIFY_TICK, "n_intervals"),
    )
    def grids(_refresh: int, _tick: int | None) -> tuple:
        user = require(Action.NOTIFICATION_VIEW)
        with db.session() as s:
            channels, log = list_channels(session=s), delivery_log(session=s)
        read_only = not allowed(user.role, Action.NOTIFICATION_EDIT)
        text = note("You may look; only admins change channels.", "info") if read_only else ""
        return channel_rows(channels), log_rows(log), text, read_only, read_only

    @app.callback(
        *_FORM,
        *_ERRORS,
        Input(NOTIFY_CHANNELS_GRID, "selectedRows"),
        Input(NOTIFY_NEW, "n_clicks"),
        State(NOTIFY_CHANNEL_ID, "data"),
        prevent_initial_call=True,
    )
    def choose(selected: list | None, _new: int | None, shown: int | None) -> tuple:
        user = require(Action.NOTIFICATION_VIEW)
        if ctx.triggered_id == NOTIFY_NEW:
            return *empty_form(), *_errors()
        if not selected or int(selected[0]["id"]) == shown:
            raise dash.exceptions.PreventUpdate  # deselected, or the grid reloaded
        with db.session() as s:
            row = get_channel(session=s, channel_id=int(selected[0]["id"]))
        return *filled_form(row, allowed(user.role, Action.NOTIFICATION_EDIT)), *_errors()

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        *_ERRORS,
        Output(NOTIFY_CHANNEL_ID, "data", allow_duplicate=True),
        Output(NOTIFY_SECRET, "value", allow_duplicate=True),
        Output(NOTIFY_TEST, "disabled", allow_duplicate=True),
        Output(NOTIFY_ACTIVE, "disabled", allow_duplicate=True),
        Output(NOTIFY_FORM_TITLE, "children", allow_duplicate=True),
        Input(NOTIFY_SAVE, "n_clicks"),
        State(NOTIFY_CHANNEL_ID, "data"),
        *[State(c, "value") for c in _CONTROLS],
        State(NOTIFY_EVENTS, "value"),
        State(NOTIFY_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(_n, channel_id, name, kind, target, secret, events, refresh) -> tuple:
        try:
            admin = require(Action.NOTIFICATION_EDIT)
            with db.session() as s:
                row = save_channel(
                    session=s,
                    actor_id=admin.id,
                    channel_id=channel_id,
                    name=name or "",
                    kind=kind or "",
                    target=target or "",
                    secret=secret or "",
                    events=events or [],
                )
        except AccessDenied as err:
            return note(str(err), "warning"), dash.no_update, *_errors(), *[dash.no_update] * 5
        except ChannelError as err:
            return "", dash.no_update, *_errors(err), *[dash.no_update] * 5
        text = f"Saved channel {row.name}."
        title = filled_form(row, writer=True)[6]
        saved = (row.id, "", not row.active, False, title)
        said = note(text, "success")
        if row.kind == "email" and not settings.smtp_host:
            said = note(f"{text} {NO_MAIL_SERVER}: nothing is sent to it until one is.", "warning")
        return said, (refresh or 0) + 1, *_errors(), *saved

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        Input(NOTIFY_TEST, "n_clicks"),
        State(NOTIFY_CHANNEL_ID, "data"),
        State(NOTIFY_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def send_test(_n: int, channel_id: int | None, refresh: int) -> tuple:
        try:
            require(Action.NOTIFICATION_EDIT)
            if channel_id is None:
                raise ChannelError("Save or select a channel first.")
            with db.session() as s:
                kind = get_channel(session=s, channel_id=int(channel_id)).kind
                if kind == "email" and not settings.smtp_host:
                    raise ChannelError(f"{NO_MAIL_SERVER}: a test email cannot be sent.")
                row = enqueue_test(session=s, channel_id=int(channel_id))
        except (AccessDenied, ChannelError) as err:
            return note(str(err), "warning"), dash.no_update
        text = f"Test message #{row.id} queued; the worker sends it within 10 s."
        return note(text, "success"), (refresh or 0) + 1

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        Output(NOTIFY_ACTIVE, "children", allow_duplicate=True),
        Output(NOTIFY_TEST, "disabled", allow_duplicate=True),
        Input(NOTIFY_ACTIVE, "n_clicks"),
        State(NOTIFY_CHANNEL_ID, "data"),
        State(NOTIFY_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def toggle(_n: int, channel_id: int | None, refresh: int) -> tuple:
        try:
            admin = require(Action.NOTIFICATION_EDIT)
            if channel_id is None:
                raise ChannelError("Select a channel first.")
            with db.session() as s:
                active = not get_channel(session=s, channel_id=int(channel_id)).active
                row = set_channel_active(
                    session=s, actor_id=admin.id, channel_id=int(channel_id), active=active
                )
        except (AccessDenied, ChannelError) as err:
            return note(str(err), "warning"), dash.no_update, dash.no_update, dash.no_update
        text = f"{row.name} is {'active again' if row.active else 'deactivated'}."
        label = "Deactivate" if row.active else "Reactivate"
        return note(text, "success"), (refresh or 0) + 1, label, not row.active
