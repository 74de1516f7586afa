"""What the model-health page shows, read from the database as plain values: the machine
types checked, a type's drift history and latest check, and the active models' age and
training range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import DriftResult, Machine, ModelStatus, ModelVersion

__all__ = [
    "ActiveModel",
    "active_models",
    "drift_history",
    "drifted_period",
    "latest_check",
    "machine_names",
    "machine_types",
]


@dataclass(frozen=True, slots=True)
class ActiveModel:
    kind: str
    version: int
    family: str | None
    trained_at: datetime
    promoted_at: datetime | None
    train_from: datetime | None
    train_to: datetime | None
    reference: dict[str, int] | None  # windows per type kept for drift; None: none stored
    horizon_h: float  # model hours: "fails within H"


def machine_types(*, session: Session) -> list[str]:
    """Every type in service or checked."""
    kinds = set(session.scalars(select(Machine.type).where(Machine.retired_at.is_(None))))
    kinds |= set(session.scalars(select(DriftResult.machine_type).distinct()))
    return sorted(kinds)


def active_models(*, session: Session) -> list[ActiveModel]:
    """The active anomaly and failure models."""
    rows = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.status == ModelStatus.ACTIVE)
        .order_by(ModelVersion.kind)
    )
    return [
        ActiveModel(
            kind=m.kind,
            version=m.version,
            family=(m.metrics or {}).get("family"),
            trained_at=m.created_at,
            promoted_at=m.promoted_at,
            train_from=m.train_from,
            train_to=m.train_to,
            reference=(m.metrics or {}).get("reference"),
            horizon_h=float((m.params or {}).get("horizon_h", 6.0)),
        )
        for m in rows
    ]


def drift_history(*, session: Session, machine_type: str, since: datetime) -> pd.DataFrame:
    """The type's checks since ``since``: columns checked_at, period_start, feature, kind,
    status, psi, p_value, missing_rate, out_of_range_rate, n_current."""
    cols = ["checked_at", "period_start", "feature", "kind", "status", "psi", "p_value"]
    cols += ["missing_rate", "out_of_range_rate", "n_current"]
    rows = session.execute(
        select(*(getattr(DriftResult, c) for c in cols))
        .where(DriftResult.machine_type == machine_type, DriftResult.checked_at >= since)
        .order_by(DriftResult.checked_at)
    ).all()
    return pd.DataFrame(rows, columns=cols)


def latest_check(*, session: Session, machine_type: str) -> list[DriftResult]:
    """The rows of the type's latest check, highest PSI first (detached, read-only)."""
    last = session.scalar(
        select(func.max(DriftResult.checked_at)).where(DriftResult.machine_type == machine_type)
    )
    if last is None:
        return []
    rows = session.scalars(
        select(DriftResult).where(
            DriftResult.machine_type == machine_type, DriftResult.checked_at == last
        )
    ).all()
    session.expunge_all()
    return sorted(rows, key=lambda r: -(r.psi if r.psi is not None else -1.0))


def machine_names(*, session: Session, ids: list[int]) -> dict[int, str]:
    """{id: name} of these machines."""
    return dict(session.execute(select(Machine.id, Machine.name).where(Machine.id.in_(ids))).all())


def drifted_period(history: pd.DataFrame) -> tuple[datetime, datetime] | None:
    """From the first check of the type's latest run of drift to the last check: the period
    to look at in the lab (None: no drift in the history)."""
    if history.empty:
        return None
    per_check = history.groupby("checked_at")["status"].apply(lambda s: (s == "drift").any())
    if not per_check.iloc[-1]:
        return None
    calm = per_check[~per_check]
    run = per_check if calm.empty else per_check[per_check.index > calm.index[-1]]
    first = history[history["checked_at"] == run.index[0]]
    return first["period_start"].min().to_pydatetime(), run.index[-1].to_pydatetime()
