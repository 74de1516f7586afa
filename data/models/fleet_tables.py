"""Several workers on one database: the leases that make a fleet-wide job run on one worker
at a time, and each worker's presence (``worker:<id>``) that says whose claims are alive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, utcnow


class Lease(Base):
    """Held by ``holder`` until ``expires_at`` (the database's clock); renewed by its holder,
    taken by anyone once expired."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
