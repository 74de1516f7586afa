"""The API's callers: tokens that other systems (ERP, MES, gateways, notebooks) present, and
the requests each made this minute (its rate limit, shared by every web process)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, Role, enum_column, utcnow


class ApiToken(Base):
    """One caller of ``/api/v1``. Only the SHA-256 of the secret is stored (the secret is
    256 random bits: a slow hash adds nothing). ``user_id`` is the token's own account,
    inactive so nobody signs in with it, through which the domain audits its writes
    under ``api:<name>``."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists to tell tokens apart
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # scopes narrowing the role ("read", "readings:write", ...); None: all its role may do
    scopes: Mapped[list | None] = mapped_column(JSON, default=None)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiRequestCount(Base):
    """A token's requests in its current minute: one row per token, counted up in the
    database in the request's own statement, so every web process counts the same ones."""

    __tablename__ = "api_request_counts"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[int] = mapped_column(Integer)  # minutes since 1970 (UTC)
    count: Mapped[int] = mapped_column(Integer)
