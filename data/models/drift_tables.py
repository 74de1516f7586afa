"""Model health: the drift job's results, one row per check, machine type and feature (or
score), kept for the model-health page's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, utcnow

__all__ = ["DriftResult"]


class DriftResult(Base):
    """One feature's (or score's) drift of one machine type over one period: ``status`` is
    "ok", "drift", "no reference" (the active model stored none, or not for this type) or
    "too few" (fewer live windows than the minimum)."""

    __tablename__ = "drift_results"
    __table_args__ = (Index("ix_drift_results_type_checked", "machine_type", "checked_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    machine_type: Mapped[str] = mapped_column(String(32))
    feature: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16), default="input")  # input | prediction
    status: Mapped[str] = mapped_column(String(16), default="ok")
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    model_version: Mapped[int | None] = mapped_column(Integer, default=None)
    psi: Mapped[float | None] = mapped_column(Float, default=None)
    ks_stat: Mapped[float | None] = mapped_column(Float, default=None)
    p_value: Mapped[float | None] = mapped_column(Float, default=None)
    missing_rate: Mapped[float | None] = mapped_column(Float, default=None)
    out_of_range_rate: Mapped[float | None] = mapped_column(Float, default=None)
    n_reference: Mapped[int] = mapped_column(Integer, default=0)
    n_current: Mapped[int] = mapped_column(Integer, default=0)
    worst_machine_id: Mapped[int | None] = mapped_column(Integer, default=None)
    reference_shares: Mapped[list] = mapped_column(JSON, default=list)
    current_shares: Mapped[list] = mapped_column(JSON, default=list)
