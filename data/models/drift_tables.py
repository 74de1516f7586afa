"""Model health: the drift job's results, one row per check, machine type and feature (or
score), kept for the model-health page's history; and the per-step means of its period kept
between checks (``data.drift_grid``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, utcnow

__all__ = ["DriftGridChunk", "DriftResult"]


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


class DriftGridChunk(Base):
    """A stretch of the drift job's grid, kept so a check reads only the readings since the
    last one: every machine's mean reading per sensor kind and step bucket in
    [first_bucket, last_bucket] (buckets of ``step_s`` seconds: epoch seconds // step), and
    how many readings it averaged (a check recounts them: a late reading makes the chunk
    read again). ``values`` is float64 (machines, buckets, kinds), NaN where none arrived."""

    __tablename__ = "drift_grid_chunks"
    __table_args__ = (Index("ix_drift_grid_chunks_first", "step_s", "first_bucket"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    step_s: Mapped[float] = mapped_column(Float)
    first_bucket: Mapped[int] = mapped_column(BigInteger)
    last_bucket: Mapped[int] = mapped_column(BigInteger)
    readings: Mapped[int] = mapped_column(BigInteger, default=0)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    machine_ids: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
