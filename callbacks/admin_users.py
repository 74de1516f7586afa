"""Users page: the grid, create a user, edit the selected one, passwords and reset links.
Every callback checks on the server that the caller is an admin."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State

from config import Settings
from data.db import Database
from maintenance.people.permissions import Action
from maintenance.people.reset_tokens import issue_reset_link
from maintenance.people.user_admin import (
    SHIFTS,
    UserError,
    create_user,
    get_user,
    list_users,
    machine_types,
    set_active,
    set_password,
    sign_out_everywhere,
    update_user,
)
from web.server.auth import AccessDenied, require
from web.server.password_reset import deliver_reset_link
from web.views.admin_users import (
    EDIT_OUTPUTS,
    USERS_ACTIVE,
    USERS_CREATE,
    USERS_EMAIL,
    USERS_FEEDBACK,
    USERS_GRID,
    USERS_NEW_EMAIL,
    USERS_NEW_MODE,
    USERS_NEW_NAME,
    USERS_NEW_PASSWORD,
    USERS_NEW_ROLE,
    USERS_REFRESH,
    USERS_ROLE,
    USERS_SAVE,
    USERS_SEND_LINK,
    USERS_SET_PASSWORD,
    USERS_SHIFT,
    USERS_SHIFT_END,
    USERS_SHIFT_START,
    USERS_SIGN_OUT,
    USERS_SKILLS,
    USERS_TEMP_PASSWORD,
    edit_form,
    empty_edit_form,
    must_select,
    note,
    role_options,
    selected_user,
    shift_hours,
    shift_options,
    user_row,
    users_error,
)

_NEW = {
    "username": "new-name",
    "email": "new-email",
    "role": "new-role",
    "password": "new-password",
}
_NEW_CONTROLS = (
    USERS_NEW_NAME,
    USERS_NEW_EMAIL,
    USERS_NEW_ROLE,
    USERS_NEW_PASSWORD,
)
_EDIT = {"role": "role", "email": "email", "shift": "shift"}
_EDIT_CONTROLS = (USERS_ROLE, USERS_EMAIL, USERS_SHIFT)
_REFRESH = Output(USERS_REFRESH, "data", allow_duplicate=True)
_FEEDBACK = Output(USERS_FEEDBACK, "children", allow_duplicate=True)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(USERS_GRID, "rowData"),
        Output(USERS_SKILLS, "options"),
        Output(USERS_FEEDBACK, "children"),
        Input(USERS_REFRESH, "data"),
    )
    def rows(_refresh: int) -> tuple:
        try:
            require(Action.USER_MANAGE)
        except AccessDenied as exc:
            return [], [], note(str(exc), "warning")
        with db.session() as s:
            users, types = list_users(session=s), machine_types(session=s)
        return (
            [user_row(u) for u in users],
            [{"label": t, "value": t} for t in types],
            dash.no_update,
        )

    @app.callback(
        Output(USERS_NEW_ROLE, "options"),
        Output(USERS_ROLE, "options"),
        Output(USERS_SHIFT, "options"),
        Input(USERS_GRID, "id"),
    )
    def options(_id: str) -> tuple:
        try:
            require(Action.USER_MANAGE)
        except AccessDenied:
            return [], [], []
        return role_options(), role_options(), shift_options()

    @app.callback(*EDIT_OUTPUTS, Input(USERS_GRID, "selectedRows"), prevent_initial_call=True)
    def fill(selected: list | None) -> tuple:
        user_id = selected_user(selected)
        if user_id is None:
            return empty_edit_form()
        require(Action.USER_MANAGE)
        with db.session() as s:
            return edit_form(get_user(session=s, user_id=user_id))

    @app.callback(
        Output(USERS_NEW_PASSWORD, "disabled"),
        Input(USERS_NEW_MODE, "value"),
    )
    def mode(value: str) -> bool:  # a reset link: the user chooses the password
        return value == "link"

    @app.callback(
        Output(USERS_SHIFT_START, "value", allow_duplicate=True),
        Output(USERS_SHIFT_END, "value", allow_duplicate=True),
        Output(USERS_SHIFT_START, "disabled"),
        Output(USERS_SHIFT_END, "disabled"),
        Input(USERS_SHIFT, "value"),
        prevent_initial_call=True,
    )
    def preset(shift: str | None) -> tuple:
        if shift == "custom":
            return dash.no_update, dash.no_update, False, False
        start, end = SHIFTS.get(shift or "", (None, None))
        return start, end, True, True

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        *[Output(users_error(f), "children") for f in _NEW.values()],
        *[Output(c, "invalid") for c in _NEW_CONTROLS],
        *[Output(c, "value") for c in (USERS_NEW_NAME, USERS_NEW_EMAIL)],
        Output(USERS_NEW_PASSWORD, "value"),
        Input(USERS_CREATE, "n_clicks"),
        State(USERS_NEW_NAME, "value"),
        State(USERS_NEW_EMAIL, "value"),
        State(USERS_NEW_ROLE, "value"),
        State(USERS_NEW_MODE, "value"),
        State(USERS_NEW_PASSWORD, "value"),
        State(USERS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def create(_n: int, name: str, email: str, role: str, mode: str, password: str, refresh: int):
        try:
            admin = require(Action.USER_MANAGE)
            with db.session() as s:
                user = create_user(
                    session=s,
                    actor_id=admin.id,
                    username=name or "",
                    email=email or "",
                    role=role,
                    password=(password or "") if mode != "link" else None,
                )
                link = (
                    issue_reset_link(
                        session=s,
                        user_id=user.id,
                        minutes=settings.password_reset_minutes,
                        actor_id=admin.id,
                    )
                    if mode == "link"
                    else None
                )
        except (AccessDenied, UserError) as err:
            return *_refused(err, _NEW), dash.no_update, dash.no_update, dash.no_update
        text = f"Created {user.username} ({user.role.value})."
        if link is not None:
            text += " " + deliver_reset_link(settings, link)
        return note(text, "success"), (refresh or 0) + 1, *_clean(_NEW), "", "", ""

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        *[Output(users_error(f), "children") for f in _EDIT.values()],
        *[Output(c, "invalid") for c in _EDIT_CONTROLS],
        Output(users_error("skills"), "children"),
        Input(USERS_SAVE, "n_clicks"),
        State(USERS_GRID, "selectedRows"),
        State(USERS_ROLE, "value"),
        State(USERS_EMAIL, "value"),
        State(USERS_SKILLS, "value"),
        State(USERS_SHIFT, "value"),
        State(USERS_SHIFT_START, "value"),
        State(USERS_SHIFT_END, "value"),
        State(USERS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(_n, selected, role, email, skills, shift, start, end, refresh: int) -> tuple:
        try:
            admin = require(Action.USER_MANAGE)
            user_id = must_select(selected)
            start, end = shift_hours(shift, start, end)
            with db.session() as s:
                changed = update_user(
                    session=s,
                    actor_id=admin.id,
                    user_id=user_id,
                    role=role,
                    email=email or "",
                    skills=skills or [],
                    shift_start=start,
                    shift_end=end,
                )
        except (AccessDenied, UserError) as err:
            return *_refused(err, _EDIT, also=("skills",)), _message(err, "skills")
        text = f"Saved: {', '.join(changed)}." if changed else "Nothing to change."
        return note(text, "success"), (refresh or 0) + 1, *_clean(_EDIT), ""

    @app.callback(
        _FEEDBACK,
        _REFRESH,
        Output(users_error("active"), "children"),
        Input(USERS_ACTIVE, "n_clicks"),
        State(USERS_GRID, "selectedRows"),
        State(USERS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def toggle(_n: int, selected: list | None, refresh: int) -> tuple:
        try:
            admin = require(Action.USER_MANAGE)
            user_id = must_select(selected)
            with db.session() as s:
                now_active = not get_user(session=s, user_id=user_id).active
                user = set_active(session=s, actor_id=admin.id, user_id=user_id, active=now_active)
        except (AccessDenied, UserError) as err:
            return dash.no_update, dash.no_update, str(err)
        text = (
            f"{user.username} may sign in again."
            if user.active
            else f"{user.username} is deactivated and signed out everywhere."
        )
        return note(text, "success"), (refresh or 0) + 1, ""

    @app.callback(
        _FEEDBACK,
        Output(users_error("temp-password"), "children"),
        Output(USERS_TEMP_PASSWORD, "invalid"),
        Output(USERS_TEMP_PASSWORD, "value"),
        Input(USERS_SET_PASSWORD, "n_clicks"),
        State(USERS_GRID, "selectedRows"),
        State(USERS_TEMP_PASSWORD, "value"),
        prevent_initial_call=True,
    )
    def temporary(_n: int, selected: list | None, password: str | None) -> tuple:
        try:
            admin = require(Action.USER_MANAGE)
            user_id = must_select(selected)
            with db.session() as s:
                user = set_password(
                    session=s,
                    actor_id=admin.id,
                    user_id=user_id,
                    password=password or "",
                    via="admin",
                )
        except (AccessDenied, UserError) as err:
            if message := _message(err, "password"):
                return dash.no_update, message, True, dash.no_update
            return note(str(err), "warning"), "", False, dash.no_update
        text = f"New password set for {user.username}; they are signed out everywhere."
        return note(text, "success"), "", False, ""

    @app.callback(
        _FEEDBACK,
        Input(USERS_SIGN_OUT, "n_clicks"),
        State(USERS_GRID, "selectedRows"),
        prevent_initial_call=True,
    )
    def sign_out(_n: int, selected: list | None) -> dbc.Alert:
        try:
            admin = require(Action.USER_MANAGE)
            user_id = must_select(selected)
            with db.session() as s:
                ended = sign_out_everywhere(session=s, actor_id=admin.id, user_id=user_id)
                name = get_user(session=s, user_id=user_id).username
        except (AccessDenied, UserError) as err:
            return note(str(err), "warning")
        sessions = f"{ended} session{'' if ended == 1 else 's'}"
        return note(f"{name} is signed out everywhere ({sessions} ended).", "success")

    @app.callback(
        _FEEDBACK,
        Input(USERS_SEND_LINK, "n_clicks"),
        State(USERS_GRID, "selectedRows"),
        prevent_initial_call=True,
    )
    def send_link(_n: int, selected: list | None) -> dbc.Alert:
        try:
            admin = require(Action.USER_MANAGE)
            user_id = must_select(selected)
            with db.session() as s:
                link = issue_reset_link(
                    session=s,
                    user_id=user_id,
                    minutes=settings.password_reset_minutes,
                    actor_id=admin.id,
                )
        except (AccessDenied, UserError) as err:
            return note(str(err), "warning")
        return note(deliver_reset_link(settings, link), "success")


def _refused(err: Exception, fields: dict[str, str], also: tuple[str, ...] = ()) -> tuple:
    """Feedback, no refresh, one message per field and the fields' invalid flags; a
    message that belongs to no field (``also`` are shown elsewhere) goes in the feedback."""
    messages = [_message(err, name) for name in fields]
    shown = any(messages) or set(getattr(err, "messages", {})) & set(also)
    feedback = "" if shown else note(str(err), "warning")
    return feedback, dash.no_update, *messages, *(bool(m) for m in messages)


def _message(err: Exception, field: str) -> str:
    """The message for ``field`` (a refused form has one per bad field)."""
    return getattr(err, "messages", {}).get(field, "")


def _clean(fields: dict[str, str]) -> tuple:
    return *("" for _ in fields), *(False for _ in fields)
