"""People and what they did: users, password-reset tokens, failed sign-ins, the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import (
    Base,
    Role,
    enum_column,
    utcnow,
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # users admin (0006): contact, sign-in bookkeeping, technicians' skills and shift
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    # part of the login session's id: bumping it signs the user out everywhere
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    skills: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # machine types
    shift_start: Mapped[int | None] = mapped_column(Integer, default=None)  # hour 0-23, UTC
    shift_end: Mapped[int | None] = mapped_column(Integer, default=None)  # may wrap past midnight

    # a unique index, not a constraint: SQLite adds it without rebuilding the table
    __table_args__ = (Index("ix_users_email", "email", unique=True),)


class AuditLog(Base):
    __tablename__ = "audit_log"
    # a ticket's or an SOP's history is read by entity
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON, default=None)
    after: Mapped[dict | None] = mapped_column(JSON, default=None)


class PasswordResetToken(Base):
    """A single-use password-reset link: only the SHA-256 of the token is stored."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_password_reset_tokens_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInFailure(Base):
    """One failed sign-in: the account name tried, from which address, when. The throttle
    counts them per account and address and per address (maintenance/people/sign_in_limits.py)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_pair", "account", "address", "at"),
        Index("ix_sign_in_failures_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # "sign_in": a wrong password; "forgot": a password-reset request (throttled alike)
    kind: Mapped[str] = mapped_column(String(16), default="sign_in", server_default="sign_in")
    account: Mapped[str] = mapped_column(String(64))  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
