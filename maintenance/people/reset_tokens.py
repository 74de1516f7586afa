"""Password reset by a single-use emailed link: the token is random, only its SHA-256 is
stored, it expires, and using it signs the user out everywhere."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from data.models import AuditLog, PasswordResetToken, User, utcnow
from maintenance.people.user_admin import UserError, check_password, set_password

__all__ = ["ResetLink", "issue_reset_link", "request_reset", "reset_password", "reset_username"]

_INVALID = "This reset link is invalid, used or expired: ask for a new one."


@dataclass(frozen=True, slots=True)
class ResetLink:
    """What the email needs; ``token`` exists only here and in the email, never stored."""

    user_id: int
    username: str
    email: str
    token: str
    expires_at: datetime


def request_reset(*, session: Session, login: str, minutes: int) -> ResetLink | None:
    """A link for the active user with this user name or email, if they have an email
    address; None otherwise (the caller answers the same either way)."""
    key = (login or "").strip().lower()
    if not key:
        return None
    user = session.scalar(
        select(User).where(
            User.active.is_(True), or_(func.lower(User.username) == key, User.email == key)
        )
    )
    if user is None or not user.email:
        return None
    return issue_reset_link(session=session, user_id=user.id, minutes=minutes, actor_id=None)


def issue_reset_link(
    *, session: Session, user_id: int, minutes: int, actor_id: int | None
) -> ResetLink:
    """A new link for the user (``actor_id``: the admin who sent it, None when asked for on
    the "Forgot password?" form); links issued before it stop working."""
    user = session.get(User, user_id)
    if user is None or not user.email:
        raise UserError("email", "This user has no email address: set one, or set a password.")
    if not user.active:
        raise UserError("active", f"{user.username} is deactivated: reactivate them first.")
    now = utcnow()
    _revoke(session, user.id, now)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(minutes=minutes)
    session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=expires
        )
    )
    session.add(
        AuditLog(
            user_id=actor_id,
            action="user.password_reset_request",
            entity="user",
            entity_id=str(user.id),
            after={
                "email": user.email,
                "expires_at": expires.isoformat(),
                "via": "admin" if actor_id is not None else "forgot password form",
            },
        )
    )
    return ResetLink(user.id, user.username, user.email, token, expires)


def reset_username(*, session: Session, token: str) -> str | None:
    """The user name a still valid token belongs to, or None."""
    found = _valid(session, token)
    return found[1].username if found else None


def reset_password(*, session: Session, token: str, password: str, confirm: str) -> str:
    """Set the password through a valid token, which is then used up; returns the user
    name. Raises ``UserError`` (field "token", "password" or "confirm")."""
    found = _valid(session, token)
    if found is None:
        raise UserError("token", _INVALID)
    row, user = found
    check_password(username=user.username, password=password, confirm=confirm)
    row.used_at = utcnow()
    set_password(
        session=session, actor_id=user.id, user_id=user.id, password=password, via="reset link"
    )
    return user.username


def _valid(session: Session, token: str) -> tuple[PasswordResetToken, User] | None:
    if not token or len(token) > 128:
        return None
    found = session.execute(
        select(PasswordResetToken, User)
        .join(User, User.id == PasswordResetToken.user_id)
        .where(PasswordResetToken.token_hash == _digest(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.used_at is not None or row.expires_at <= utcnow() or not user.active:
        return None
    return row, user


def _revoke(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
