"""Sessions kept on the server: each sign-in is a ``user_sessions`` row, and the browser's
cookie only names it (a random token; the row keeps its SHA-256). Every request looks the row
up, so ending it (sign-out, a new password, deactivation, "sign out everywhere", the idle and
absolute timeouts) refuses every copy of that cookie at once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from data.models import User, UserSession
from maintenance.people.accounts import UserInfo

__all__ = [
    "SessionLimits",
    "SessionRow",
    "start_session",
    "session_user",
    "end_session",
    "end_user_sessions",
    "end_own_session",
    "open_sessions",
    "SEEN_EVERY",
    "KEEP",
]

# last_seen_at is written at most once a minute per session (Dash pages poll every few
# seconds): the idle timeout is exact to within this
SEEN_EVERY = timedelta(minutes=1)
# sessions are kept this long after their last request (the sign-in throttle knows an
# owner's usual addresses from them), then deleted at the user's next sign-in
KEEP = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """A session ends after ``idle`` without a request, and ``absolute`` after sign-in."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One open session, as its owner sees it."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    address: str
    user_agent: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(
    *, session: Session, user_id: int, address: str, user_agent: str, now: datetime
) -> str:
    """A new session for ``user_id``; returns the token the cookie carries. The user's
    sessions unused for ``KEEP`` go."""
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user_id, UserSession.last_seen_at < now - KEEP
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_hash(token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            address=address[:64],
            user_agent=user_agent[:255],
        )
    )
    session.flush()
    return token


def session_user(
    *, session: Session, token: str, limits: SessionLimits, now: datetime
) -> tuple[UserInfo, int] | None:
    """The active user of an open session and the session's id, or None. A session past a
    timeout is ended here (with its reason); last seen is moved on at most once a minute."""
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    row, user = found
    if not user.active:
        _end(row, now, "deactivated")
        return None
    if now - row.last_seen_at >= limits.idle:
        _end(row, now, "idle")
        return None
    if now - row.created_at >= limits.absolute:
        _end(row, now, "expired")
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
    return UserInfo(user.id, user.username, user.role, user.session_version), row.id


def end_session(*, session: Session, token: str, now: datetime, reason: str = "sign-out") -> bool:
    """End the session this token names; False when it had ended already."""
    return _end_where(session, now, reason, UserSession.token_hash == _hash(token)) > 0


def end_own_session(*, session: Session, user_id: int, session_id: int, now: datetime) -> bool:
    """A user ends one of their own sessions (another's id ends nothing)."""
    return (
        _end_where(
            session,
            now,
            "ended by the user",
            UserSession.id == session_id,
            UserSession.user_id == user_id,
        )
        > 0
    )


def end_user_sessions(
    *, session: Session, user_id: int, now: datetime, reason: str, keep: int | None = None
) -> int:
    """End every open session of ``user_id`` (but ``keep``, when given); how many ended."""
    where = [UserSession.user_id == user_id]
    if keep is not None:
        where.append(UserSession.id != keep)
    return _end_where(session, now, reason, *where)


def open_sessions(
    *, session: Session, user_id: int, limits: SessionLimits, now: datetime
) -> list[SessionRow]:
    """The user's sessions still open (and within both timeouts), the latest seen first."""
    rows = session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - limits.idle,
            UserSession.created_at > now - limits.absolute,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [SessionRow(r.id, r.created_at, r.last_seen_at, r.address, r.user_agent) for r in rows]


def _end(row: UserSession, now: datetime, reason: str) -> None:
    row.ended_at = now
    row.end_reason = reason[:32]


def _end_where(session: Session, now: datetime, reason: str, *where: Any) -> int:
    ended = session.execute(
        update(UserSession)
        .where(UserSession.ended_at.is_(None), *where)
        .values(ended_at=now, end_reason=reason[:32])
        .execution_options(synchronize_session=False)
    )
    # an UPDATE gives a CursorResult, typed as a plain Result (sqlalchemy#12913)
    return int(cast(CursorResult[Any], ended).rowcount or 0)
