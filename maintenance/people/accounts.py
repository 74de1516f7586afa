"""User accounts: argon2id password hashes, authentication, demo accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Role, User, utcnow

__all__ = [
    "UserInfo",
    "hash_password",
    "authenticate",
    "load_user",
    "ensure_demo_accounts",
    "DEMO_ROLES",
]

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
DEMO_ROLES = (Role.ADMIN, Role.MANAGER, Role.ENGINEER, Role.TECHNICIAN, Role.VIEWER)


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    role: Role
    session_version: int = 0  # part of the login session id: a change signs out everywhere


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(*, session: Session, username: str, password: str) -> UserInfo | None:
    """The active user with these credentials, or None (same answer for any failure)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # same work either way: no timing hint that the name exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    user.last_login_at = utcnow()
    return _info(user)


def load_user(
    *, session: Session, user_id: int, session_version: int | None = None
) -> UserInfo | None:
    """The active user, read afresh (a role change counts on the next request); None when
    deactivated or when ``session_version`` is given and no longer the user's."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    if session_version is not None and session_version != user.session_version:
        return None
    return _info(user)


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.role, user.session_version)


def ensure_demo_accounts(*, session: Session, given: dict[Role, str]) -> dict[str, str]:
    """Create one account per demo role if missing; returns {username: password} created.

    A password comes from ``given`` (the environment) or is generated; none is in the code.
    """
    created: dict[str, str] = {}
    for role in DEMO_ROLES:
        name = role.value
        if session.scalar(select(User.id).where(User.username == name)) is not None:
            continue
        password = given.get(role) or secrets.token_urlsafe(9)
        session.add(User(username=name, password_hash=hash_password(password), role=role))
        created[name] = password
    session.flush()
    return created
