"""API tokens for other systems: created by an admin (the secret shown once), stored hashed,
revocable, expiring, their last use recorded.

A token acts through an account of its own, ``api:<name>``, with the token's role: the
domain's functions take that account like any user's, so the one permissions table
(``maintenance.people.permissions``) decides what a token may do and every write is audited
under the token's name. The account is inactive and has no password: nobody signs in with
it, and a token never opens the web pages. A token may be narrowed to scopes on top of its
role (``permissions.SCOPE_OF``). Its requests are counted per minute in the database
(``count_request``), so every web process holds it to the same rate limit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from data.models import ApiRequestCount, ApiToken, AuditLog, Role, User, utcnow
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import SCOPE_OF, Scope, allowed

__all__ = [
    "ACCOUNT_PREFIX",
    "NewToken",
    "TokenCaller",
    "TokenError",
    "TokenRow",
    "authenticate_token",
    "count_request",
    "create_token",
    "list_tokens",
    "revoke_token",
]

ACCOUNT_PREFIX = "api:"  # user names cannot hold a colon: no person's name collides
_SECRET_PREFIX = "pdm_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
_NO_PASSWORD = "!api-token: no password, never signs in"  # not an argon2 hash: verify fails
_LAST_USED_EVERY = timedelta(minutes=1)  # one write a minute per token, not one per request


class TokenError(ValueError):
    """A token that cannot be created as asked; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    role: Role
    scopes: frozenset[Scope] | None  # None: all its role may do
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: ``secret`` exists only here, to be shown once."""

    row: TokenRow
    secret: str


@dataclass(frozen=True, slots=True)
class TokenCaller:
    """Who is calling with a valid token: its id and name, and the account it acts as."""

    token_id: int
    name: str
    user: UserInfo
    scopes: frozenset[Scope] | None = None  # None: all its role may do


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    *,
    session: Session,
    name: str,
    role: Role | str,
    expires_at: datetime | None,
    created_by: int,
    scopes: Iterable[str] | None = None,
    now: datetime | None = None,
) -> NewToken:
    """A new token and its account; audited under the admin who made it. Raises ``TokenError``."""
    now = now or utcnow()
    name = (name or "").strip().lower()
    if not _NAME.fullmatch(name):
        raise TokenError("name", "2 to 40 characters: lower-case letters, digits, . _ -")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise TokenError("name", f"A token named {name} exists already.")
    try:
        role = Role(role)
    except ValueError:
        raise TokenError("role", "Choose a role.") from None
    if expires_at is not None and expires_at <= now:
        raise TokenError("expires_at", "The expiry must lie in the future.")
    narrowed = _scopes(scopes, role)
    secret = _SECRET_PREFIX + secrets.token_urlsafe(32)
    account = User(
        username=ACCOUNT_PREFIX + name, password_hash=_NO_PASSWORD, role=role, active=False
    )
    session.add(account)
    session.flush()
    token = ApiToken(
        name=name,
        prefix=secret[: len(_SECRET_PREFIX) + 6],
        secret_hash=_digest(secret),
        role=role,
        scopes=sorted(narrowed) if narrowed is not None else None,
        user_id=account.id,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    after = {
        "name": name,
        "role": role.value,
        "scopes": token.scopes,
        "expires_at": _iso(expires_at),
    }
    _audit(session, created_by, "api_token.create", token.id, None, after)
    return NewToken(_row(session, token), secret)


def authenticate_token(
    *, session: Session, secret: str, now: datetime | None = None
) -> TokenCaller | None:
    """The caller for a valid, unrevoked, unexpired token, recording its use; else None."""
    if not secret.startswith(_SECRET_PREFIX) or len(secret) > 128:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == _digest(secret)))
    now = now or utcnow()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or token.last_used_at < now - _LAST_USED_EVERY:
        token.last_used_at = now
    user = UserInfo(token.user_id, ACCOUNT_PREFIX + token.name, token.role)
    return TokenCaller(token.id, token.name, user, _stored_scopes(token))


def count_request(*, session: Session, token_id: int, now: datetime | None = None) -> int:
    """Count one request of the token in the current minute (UTC) and return how many it has
    made in it: one upsert, atomic on SQLite and PostgreSQL, whichever process asks."""
    minute = int((now or utcnow()).timestamp() // 60)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ApiRequestCount).values(token_id=token_id, minute=minute, count=1)
    upsert = stmt.on_conflict_do_update(
        index_elements=[ApiRequestCount.token_id],
        set_={
            "minute": stmt.excluded.minute,
            "count": case(
                (ApiRequestCount.minute == stmt.excluded.minute, ApiRequestCount.count + 1),
                else_=1,
            ),
        },
    ).returning(ApiRequestCount.count)
    return int(session.scalar(upsert) or 0)


def revoke_token(*, session: Session, token_id: int, actor_id: int) -> bool:
    """Refuse the token from its next request on (audited); False if already revoked."""
    token = session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    after = {"name": token.name, "revoked_at": _iso(token.revoked_at)}
    _audit(session, actor_id, "api_token.revoke", token.id, {"revoked_at": None}, after)
    return True


def list_tokens(*, session: Session) -> list[TokenRow]:
    """Every token, newest first (revoked and expired included: they explain the audit log)."""
    tokens = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
    return [_row(session, t) for t in tokens]


def _row(session: Session, t: ApiToken) -> TokenRow:
    creator = session.get(User, t.created_by) if t.created_by is not None else None
    return TokenRow(
        t.id,
        t.name,
        t.prefix,
        t.role,
        _stored_scopes(t),
        creator.username if creator else None,
        t.created_at,
        t.expires_at,
        t.last_used_at,
        t.revoked_at,
    )


def _scopes(chosen: Iterable[str] | None, role: Role) -> frozenset[Scope] | None:
    """The scopes asked for (none: the whole role), each one the role can use at all."""
    if chosen is None:
        return None
    try:
        scopes = frozenset(Scope(x) for x in chosen)
    except ValueError:
        raise TokenError("scopes", f"Scopes are {', '.join(s.value for s in Scope)}.") from None
    if not scopes:
        return None
    for scope in sorted(scopes):
        if not any(allowed(role, a) for a, needs in SCOPE_OF.items() if needs == scope):
            raise TokenError("scopes", f"A {role.value} token can do nothing with {scope}.")
    return scopes


def _stored_scopes(t: ApiToken) -> frozenset[Scope] | None:
    if t.scopes is None:
        return None
    known = {s.value for s in Scope}  # a scope since dropped narrows to nothing, never errs
    return frozenset(Scope(x) for x in t.scopes if x in known)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _audit(
    session: Session,
    actor_id: int,
    action: str,
    token_id: int,
    before: dict | None,
    after: dict | None,
) -> None:
    session.add(
        AuditLog(
            user_id=actor_id,
            action=action,
            entity="api_token",
            entity_id=str(token_id),
            before=before,
            after=after,
        )
    )
