"""Signed-in sessions on the server: one row per sign-in, so a session can be ended (sign-out,
a new password, deactivation, "sign out everywhere") and a copied cookie stops working at
once. The cookie holds a random token; only its SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, utcnow


class UserSession(Base):
    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # "sign-out", "ended by the user", "new password", "deactivated", "signed out everywhere",
    # "idle", "expired"
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)
