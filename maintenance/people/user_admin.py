"""Managing users: create, change role, deactivate, set passwords, technicians' skills and
shift. Every change is audited without secrets; the last active admin cannot be removed."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from data.models import AuditLog, Machine, PasswordResetToken, Role, User, utcnow
from maintenance.people.accounts import hash_password
from maintenance.people.api_tokens import ACCOUNT_PREFIX
from maintenance.people.user_sessions import end_user_sessions

__all__ = [
    "MIN_PASSWORD",
    "SHIFTS",
    "UserError",
    "UserRow",
    "check_password",
    "create_user",
    "get_user",
    "list_users",
    "machine_types",
    "set_active",
    "set_password",
    "shift_label",
    "sign_out_everywhere",
    "update_user",
]

MIN_PASSWORD = 10
# named shifts as (start hour, end hour), UTC; a shift may wrap past midnight
SHIFTS: dict[str, tuple[int, int]] = {"day": (6, 14), "late": (14, 22), "night": (22, 6)}
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class UserError(ValueError):
    """Bad input; ``field`` names the form field the message belongs to, ``messages`` has
    one message per refused field (a form refused on several fields at once)."""

    def __init__(self, field: str, message: str, others: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.messages = {field: message, **(others or {})}


def _every_field(checks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every field's check, so a form hears about all its bad fields at once; their
    values, or one ``UserError`` carrying a message per refused field."""
    values: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except UserError as err:
            refused.update(err.messages)
    if refused:
        # the text says every refusal (logs, a plain message); ``messages`` has each one
        raise UserError(next(iter(refused)), " ".join(refused.values()), refused)
    return values


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    email: str
    role: Role
    active: bool
    skills: tuple[str, ...]
    shift_start: int | None
    shift_end: int | None
    created_at: datetime
    last_login_at: datetime | None

    @property
    def shift(self) -> str:
        return shift_label(self.shift_start, self.shift_end)


def shift_label(start: int | None, end: int | None) -> str:
    """'day 06-14', 'custom 07-15', or '' for no shift."""
    if start is None or end is None:
        return ""
    name = next((n for n, hours in SHIFTS.items() if hours == (start, end)), "custom")
    return f"{name} {start:02d}-{end:02d}"


def list_users(*, session: Session) -> list[UserRow]:
    """Every user, by name (API tokens' accounts are the API tokens page's)."""
    people = select(User).where(~User.username.startswith(ACCOUNT_PREFIX))
    return [_row(u) for u in session.scalars(people.order_by(User.username))]


def get_user(*, session: Session, user_id: int) -> UserRow:
    return _row(_get(session, user_id))


def machine_types(*, session: Session) -> list[str]:
    """The machine types in the fleet: the skills a technician may have."""
    return list(session.scalars(select(Machine.type).distinct().order_by(Machine.type)))


def check_password(*, username: str, password: str, confirm: str | None = None) -> None:
    """Raise ``UserError`` unless the password is long enough and not the user name."""
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"Use at least {MIN_PASSWORD} characters.")
    if len(password) > 256:
        raise UserError("password", "Use at most 256 characters.")
    if password.strip().lower() == username.lower():
        raise UserError("password", "The password must not be the user name.")
    if confirm is not None and confirm != password:
        raise UserError("confirm", "The two passwords differ.")


def create_user(
    *,
    session: Session,
    actor_id: int,
    username: str,
    email: str,
    role: str | None,
    password: str | None,
) -> UserRow:
    """A new active user; without ``password`` nobody can sign in until a reset link is used
    (then an email address is required)."""
    username = (username or "").strip()
    fields = _every_field(
        {
            "username": lambda: _new_username(session, username),
            "email": lambda: _clean_email(session, email, required=password is None),
            "role": lambda: _role(role),
            "password": lambda: _new_password(username, password),
        }
    )
    address, new_role = fields["email"], fields["role"]
    secret = password if password is not None else secrets.token_urlsafe(32)
    user = User(
        username=username, email=address, role=new_role, password_hash=hash_password(secret)
    )
    session.add(user)
    session.flush()
    after = {"username": username, "email": address, "role": new_role.value, "active": True}
    first = "password from admin" if password is not None else "reset link"
    _audit(session, actor_id, "user.create", user, None, after | {"first_sign_in": first})
    return _row(user)


def update_user(
    *,
    session: Session,
    actor_id: int,
    user_id: int,
    role: str | None,
    email: str,
    skills: list[str],
    shift_start: int | None,
    shift_end: int | None,
) -> list[str]:
    """Apply the edit form: role, email, skills and shift; returns what changed (each change
    audited). Nothing is changed when any field is refused."""
    user = _get(session, user_id)
    fields = _every_field(
        {
            "role": lambda: _role(role),
            "email": lambda: _clean_email(session, email, required=False, user_id=user.id),
            "skills": lambda: _clean_skills(session, skills),
            "shift": lambda: _check_shift(shift_start, shift_end),
        }
    )
    new_role, new_email, new_skills = fields["role"], fields["email"], fields["skills"]
    changed: list[str] = []
    if new_role is not user.role:
        _guard_last_admin(session, user, "role")
        _audit(
            session,
            actor_id,
            "user.role",
            user,
            {"role": user.role.value},
            {"role": new_role.value},
        )
        user.role, changed = new_role, [*changed, "role"]
    if new_email != user.email:
        _audit(session, actor_id, "user.email", user, {"email": user.email}, {"email": new_email})
        user.email, changed = new_email, [*changed, "email"]
    before = {"skills": list(user.skills or []), "shift": [user.shift_start, user.shift_end]}
    after = {"skills": new_skills, "shift": [shift_start, shift_end]}
    if before != after:
        _audit(session, actor_id, "user.skills_shift", user, before, after)
        user.skills, user.shift_start, user.shift_end = new_skills, shift_start, shift_end
        changed.append("skills and shift")
    return changed


def set_active(*, session: Session, actor_id: int, user_id: int, active: bool) -> UserRow:
    """Deactivate (signed out everywhere, cannot sign in) or reactivate a user."""
    user = _get(session, user_id)
    if user.active == active:
        return _row(user)
    if not active:
        _guard_last_admin(session, user, "active")
        _sign_out_everywhere(session, user, "deactivated")
    action = "user.reactivate" if active else "user.deactivate"
    _audit(session, actor_id, action, user, {"active": user.active}, {"active": active})
    user.active = active
    return _row(user)


def set_password(
    *, session: Session, actor_id: int | None, user_id: int, password: str, via: str
) -> UserRow:
    """A new password (``via``: "admin" or "reset link"); every session of the user ends and
    unused reset links stop working. The audit says that it changed, never what to."""
    user = _get(session, user_id)
    check_password(username=user.username, password=password)
    user.password_hash = hash_password(password)
    _sign_out_everywhere(session, user, "new password")
    _audit(session, actor_id, "user.password_reset", user, None, {"via": via})
    return _row(user)


def sign_out_everywhere(*, session: Session, actor_id: int, user_id: int) -> int:
    """An admin ends every session of a user (a lost phone, a shared screen); audited. How
    many sessions were open."""
    user = _get(session, user_id)
    ended = _sign_out_everywhere(session, user, "signed out everywhere")
    _audit(session, actor_id, "user.sign_out_everywhere", user, None, {"sessions": ended})
    return ended


def _sign_out_everywhere(session: Session, user: User, reason: str) -> int:
    user.session_version = (user.session_version or 1) + 1
    ended = end_user_sessions(session=session, user_id=user.id, now=utcnow(), reason=reason)
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return ended


def _guard_last_admin(session: Session, user: User, field: str) -> None:
    if user.role is not Role.ADMIN or not user.active:
        return
    admins = session.scalar(
        select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))
    )
    if (admins or 0) <= 1:
        raise UserError(
            field, f"{user.username} is the last active admin: make another user admin first."
        )


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserError("user", f"User #{user_id} does not exist.")
    if user.username.startswith(ACCOUNT_PREFIX):  # never reactivated, given a password, ...
        raise UserError("user", f"{user.username} is an API token's: see API tokens.")
    return user


def _new_password(username: str, password: str | None) -> None:
    if password is not None:  # None: a reset link, the user chooses
        check_password(username=username, password=password)


def _new_username(session: Session, username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise UserError(
            "username", "3 to 64 characters: lower-case letters, digits, dot, dash, underscore."
        )
    if session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise UserError("username", f"A user named {username} exists already.")
    return username


def _role(value: str | None) -> Role:
    try:
        return Role(value or "")  # none chosen: no role is named ""
    except ValueError:
        raise UserError("role", "Choose a role.") from None


def _clean_email(
    session: Session, email: str | None, *, required: bool, user_id: int | None = None
) -> str | None:
    email = (email or "").strip().lower()
    if not email:
        if required:
            raise UserError("email", "A reset link needs an email address.")
        return None
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise UserError("email", "Enter an email address like name@plant.example.")
    owner = session.scalar(select(User.id).where(User.email == email))
    if owner is not None and owner != user_id:
        raise UserError("email", "Another user has this email address.")
    return email


def _clean_skills(session: Session, skills: list[str] | None) -> list[str]:
    known = set(machine_types(session=session))
    chosen = sorted(set(skills or []))
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise UserError("skills", f"No machine type {', '.join(unknown)} in the fleet.")
    return chosen


def _check_shift(start: int | None, end: int | None) -> None:
    if start is None and end is None:
        return
    if start is None or end is None:
        raise UserError("shift", "Give both the start and the end hour, or no shift.")
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise UserError("shift", "Hours run from 0 to 23.")
    if start == end:
        raise UserError("shift", "A shift must end at another hour than it starts.")


def _audit(
    session: Session,
    actor_id: int | None,
    action: str,
    user: User,
    before: dict | None,
    after: dict | None,
) -> None:
    session.add(
        AuditLog(
            user_id=actor_id,
            action=action,
            entity="user",
            entity_id=str(user.id),
            before=before,
            after=after,
        )
    )


def _row(u: User) -> UserRow:
    return UserRow(
        u.id,
        u.username,
        u.email or "",
        u.role,
        u.active,
        tuple(u.skills or ()),
        u.shift_start,
        u.shift_end,
        u.created_at,
        u.last_login_at,
    )
