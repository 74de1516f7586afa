"""Builders for the users page: grid rows, select options, and the edit card's contents."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Output

from data.models import Role
from maintenance.users import SHIFTS, UserError, UserRow
from web import ids

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

_ERRORS = ("role", "email", "shift", "skills", "active", "temp-password")
_INVALID = (ids.USERS_ROLE, ids.USERS_EMAIL, ids.USERS_SHIFT, ids.USERS_TEMP_PASSWORD)
_BUTTONS = (ids.USERS_SAVE, ids.USERS_SET_PASSWORD, ids.USERS_SEND_LINK, ids.USERS_ACTIVE)

# what selecting a user fills in; it also clears the messages left by the last action
EDIT_OUTPUTS = [
    Output(ids.USERS_EDIT_TITLE, "children"),
    Output(ids.USERS_ROLE, "value"),
    Output(ids.USERS_EMAIL, "value"),
    Output(ids.USERS_SKILLS, "value"),
    Output(ids.USERS_SHIFT, "value"),
    Output(ids.USERS_SHIFT_START, "value", allow_duplicate=True),
    Output(ids.USERS_SHIFT_END, "value", allow_duplicate=True),
    Output(ids.USERS_ACTIVE, "children"),
    Output(ids.USERS_ACTIVE, "color"),
    *[Output(b, "disabled") for b in _BUTTONS],
    *[Output(ids.users_error(f), "children", allow_duplicate=True) for f in _ERRORS],
    *[Output(c, "invalid", allow_duplicate=True) for c in _INVALID],
]


def user_row(u: UserRow) -> dict:
    return {
        "id": u.id,
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
    return dbc.Alert(text, color=color, dismissable=True, className="py-2", id="users-note")
