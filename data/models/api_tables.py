"""The API's callers: tokens that other systems (ERP, MES, gateways, notebooks) present."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
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
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
