"""The model registry: every trained model is a version; one per kind is active."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, ModelStatus, ModelVersion, utcnow

__all__ = [
    "register",
    "promote",
    "rollback",
    "active",
    "active_versions",
    "active_family",
    "version",
    "KINDS",
]

KINDS = ("anomaly", "failure")


def register(
    *,
    session: Session,
    kind: str,
    artefact: Path,
    params: dict,
    features: list,
    metrics: dict,
    train_from: datetime | None,
    train_to: datetime | None,
) -> ModelVersion:
    """Add a candidate with the next version number of its kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}")
    last = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.kind == kind))
    model = ModelVersion(
        kind=kind,
        version=(last or 0) + 1,
        artefact=str(artefact),
        params=params,
        features=features,
        metrics=metrics,
        train_from=train_from,
        train_to=train_to,
    )
    session.add(model)
    session.flush()
    session.add(
        AuditLog(
            action="model.register",
            entity="model",
            entity_id=f"{kind}:v{model.version}",
            after={"metrics": metrics},
        )
    )
    return model


def active(*, session: Session, kind: str) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.kind == kind, ModelVersion.status == ModelStatus.ACTIVE
        )
    )


def version(session: Session, kind: str, number: int) -> ModelVersion | None:
    """One registered version of ``kind``, whatever its status."""
    return session.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == number)
    )


def active_versions(*, session: Session) -> dict[str, int]:
    """{kind: version} of the active models (empty: rule mode)."""
    rows = session.execute(
        select(ModelVersion.kind, ModelVersion.version).where(
            ModelVersion.status == ModelStatus.ACTIVE
        )
    )
    return {kind: version for kind, version in rows}


def active_family(*, session: Session) -> str | None:
    """The active failure model's family ("tree", "lstm", "blend"; None: no model, or one of
    an earlier release, which was an LSTM)."""
    model = active(session=session, kind="failure")
    return None if model is None else (model.metrics or {}).get("family", "lstm")


def promote(
    *, session: Session, kind: str, version: int, user_id: int | None = None
) -> ModelVersion:
    """Make ``version`` the active model of its kind; the previous one is retired."""
    model = session.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version)
    )
    if model is None:
        raise ValueError(f"no {kind} model version {version}")
    previous = active(session=session, kind=kind)
    if previous is not None and previous.id != model.id:
        previous.status = ModelStatus.RETIRED
    model.status, model.promoted_at = ModelStatus.ACTIVE, utcnow()
    session.add(
        AuditLog(
            user_id=user_id,
            action="model.promote",
            entity="model",
            entity_id=f"{kind}:v{version}",
            before={"active": previous.version if previous else None},
            after={"active": version},
        )
    )
    session.flush()
    return model


def rollback(*, session: Session, kind: str, user_id: int | None = None) -> ModelVersion | None:
    """Re-activate the model that was active before the current one."""
    current = active(session=session, kind=kind)
    earlier = session.scalar(
        select(ModelVersion)
        .where(
            ModelVersion.kind == kind,
            ModelVersion.status == ModelStatus.RETIRED,
            ModelVersion.promoted_at.is_not(None),
        )
        .order_by(ModelVersion.promoted_at.desc())
        .limit(1)
    )
    if earlier is None:
        return None
    if current is not None:
        current.status = ModelStatus.CANDIDATE
    return promote(session=session, kind=kind, version=earlier.version, user_id=user_id)
