"""Builders for the users page: grid rows, select options, and the edit card's contents."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output

from data.models import Role
from maintenance.people.user_admin import SHIFTS, UserError, UserRow

__all__ = [
    "EDIT_OUTPUTS",
    "edit_form",
    "empty_edit_form",
    "must_select",
    "note",
    "role_options",
    "selected_user",
    "shift_hours",
    "shift_options",
    "user_row",
]

# ids of this page's components
USERS_GRID = "users-grid"
USERS_REFRESH = "users-refresh"
USERS_FEEDBACK = "users-feedback"
USERS_NEW_NAME = "users-new-name"
USERS_NEW_EMAIL = "users-new-email"
USERS_NEW_ROLE = "users-new-role"
USERS_NEW_MODE = "users-new-mode"  # "password" | "link"
USERS_NEW_PASSWORD = "users-new-password"
USERS_CREATE = "users-create"
USERS_EDIT = "users-edit"  # the card for the selected user
USERS_EDIT_TITLE = "users-edit-title"
USERS_ROLE = "users-role"
USERS_EMAIL = "users-email"
USERS_SKILLS = "users-skills"
USERS_SHIFT = "users-shift"  # "", a name of maintenance.people.user_admin.SHIFTS, or "custom"
USERS_SHIFT_START = "users-shift-start"
USERS_SHIFT_END = "users-shift-end"
USERS_SAVE = "users-save"
USERS_ACTIVE = "users-active"  # deactivate / reactivate
USERS_SIGN_OUT = "users-sign-out"  # end every session of the user
USERS_TEMP_PASSWORD = "users-temp-password"
USERS_SET_PASSWORD = "users-set-password"
USERS_SEND_LINK = "users-send-link"
USERS_NOTE = "users-note"


def users_error(field: str) -> str:
    """The message element next to a users-page field (e.g. "new-name", "role")."""
    return f"users-{field}-error"


_ERRORS = ("role", "email", "shift", "skills", "active", "temp-password")
_INVALID = (USERS_ROLE, USERS_EMAIL, USERS_SHIFT, USERS_TEMP_PASSWORD)
_BUTTONS = (USERS_SAVE, USERS_SET_PASSWORD, USERS_SEND_LINK, USERS_SIGN_OUT, USERS_ACTIVE)

# what selecting a user fills in; it also clears the messages left by the last action
EDIT_OUTPUTS = [
    Output(USERS_EDIT_TITLE, "children"),
    Output(USERS_ROLE, "value"),
    Output(USERS_EMAIL, "value"),
    Output(USERS_SKILLS, "value"),
    Output(USERS_SHIFT, "value"),
    Output(USERS_SHIFT_START, "value", allow_duplicate=True),
    Output(USERS_SHIFT_END, "value", allow_duplicate=True),
    Output(USERS_ACTIVE, "children"),
    Output(USERS_ACTIVE, "color"),
    *[Output(b, "disabled") for b in _BUTTONS],
    *[Output(users_error(f), "children", allow_duplicate=True) for f in _ERRORS],
    *[Output(c, "invalid", allow_duplicate=True) for c in _INVALID],
]


def user_row(u: UserRow) -> dict:
    return {
        "id": str(u.id),  # AG Grid row ids are strings
        "username": u.username,
        "email": u.email,
        "role": u.role.value,
        "status": "active" if u.active else "deactivated",
        "skills": ", ".join(u.skills),
        "shift": u.shift,
        "created": f"{u.created_at:%Y-%m-%d}",
        "last_sign_in": f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never",
    }


def role_options() -> list[dict[str, str]]:
    return [{"label": r.value, "value": r.value} for r in Role]


def shift_options() -> list[dict[str, str]]:
    named = [
        {"label": f"{name} {start:02d}–{end:02d}", "value": name}
        for name, (start, end) in SHIFTS.items()
    ]
    return [
        {"label": "no shift", "value": "none"},
        *named,
        {"label": "custom hours", "value": "custom"},
    ]


def shift_hours(preset: str | None, start: object, end: object) -> tuple[int | None, int | None]:
    """The hours the shift control means: a named shift's, the typed ones for "custom"."""
    if preset != "custom":
        return SHIFTS.get(preset or "", (None, None))
    try:
        return _hour(start), _hour(end)
    except (TypeError, ValueError):
        raise UserError("shift", "Hours are whole numbers from 0 to 23.") from None


def _hour(value: object) -> int | None:
    if value in (None, ""):
        return None
    number = float(value)  # type: ignore[arg-type]
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def edit_form(u: UserRow) -> tuple:
    """The edit card for one user, in the order of EDIT_OUTPUTS."""
    preset = _preset(u.shift_start, u.shift_end)
    title = f"{u.username} ({u.role.value}{'' if u.active else ', deactivated'})"
    toggle = ("Deactivate", "danger") if u.active else ("Reactivate", "success")
    values = (u.role.value, u.email, list(u.skills), preset, u.shift_start, u.shift_end)
    return (title, *values, *toggle, *(False for _ in _BUTTONS), *_cleared())


def empty_edit_form() -> tuple:
    values = (None, "", [], "none", None, None)
    toggle = ("Deactivate", "danger")
    return ("Select a user in the grid", *values, *toggle, *(True for _ in _BUTTONS), *_cleared())


def _cleared() -> tuple:
    return *("" for _ in _ERRORS), *(False for _ in _INVALID)


def _preset(start: int | None, end: int | None) -> str:
    if start is None or end is None:
        return "none"
    return next((n for n, hours in SHIFTS.items() if hours == (start, end)), "custom")


def selected_user(rows: list | None) -> int | None:
    """The id of the grid's selected user, if any."""
    return int(rows[0]["id"]) if rows and "id" in rows[0] else None


def must_select(rows: list | None) -> int:
    user_id = selected_user(rows)
    if user_id is None:
        raise UserError("user", "Select a user in the grid first.")
    return user_id


def note(text: str, color: str) -> dbc.Alert:
    """The users page's feedback line."""
    return dbc.Alert(text, color=color, dismissable=True, className="py-2", id=USERS_NOTE)
