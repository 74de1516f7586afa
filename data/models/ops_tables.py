"""Running the platform: job runs and run-now requests, app settings, the model registry and lab
runs, notification channels and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import (
    Base,
    LabRunStatus,
    ModelStatus,
    enum_column,
    utcnow,
)


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(128), default="", server_default="")


class ModelVersion(Base):
    """A trained model in the registry: one per kind is active at a time."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_model_versions_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # anomaly | failure
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[ModelStatus] = mapped_column(
        enum_column(ModelStatus, "model_status"), default=ModelStatus.CANDIDATE
    )
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    features: Mapped[list] = mapped_column(JSON, default=list)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    train_from: Mapped[datetime | None] = mapped_column(default=None)
    train_to: Mapped[datetime | None] = mapped_column(default=None)
    artefact: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)


class LabRun(Base):
    """A model-lab job (train, backtest, weekly retrain) the worker runs in the background;
    progress, stage and the loss curve are written as it goes, the result at the end."""

    __tablename__ = "lab_runs"
    __table_args__ = (Index("ix_lab_runs_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # train | backtest | retrain
    status: Mapped[LabRunStatus] = mapped_column(
        enum_column(LabRunStatus, "lab_run_status"), default=LabRunStatus.QUEUED
    )
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="queued")
    curve: Mapped[list] = mapped_column(JSON, default=list)  # per epoch: {epoch, loss, ...}
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    # the model versions a run produced (train) or replayed (backtest: the candidate pair)
    anomaly_version: Mapped[int | None] = mapped_column(Integer, default=None)
    failure_version: Mapped[int | None] = mapped_column(Integer, default=None)
    output_dir: Mapped[str] = mapped_column(Text, default="")  # scores as Parquet
    claimed_by: Mapped[str | None] = mapped_column(String(128), default=None)  # a worker id
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class AppSetting(Base):
    """A setting changed in the app: overrides the environment's value until reset."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)  # {"value": ...}: any JSON type
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class JobRequest(Base):
    """An admin's "run now" for a scheduler job; the worker picks it up and marks it."""

    __tablename__ = "job_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)


class NotificationChannel(Base):
    """Where notifications go: an email address, a Slack-compatible webhook, or a generic
    webhook signed with HMAC-SHA256 (its secret lives here, never in the repository)."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | slack | webhook
    target: Mapped[str] = mapped_column(Text)  # email address or URL
    secret: Mapped[str] = mapped_column(Text, default="")  # HMAC key of a generic webhook
    events: Mapped[list] = mapped_column(JSON, default=list)  # assigned, escalated, resolved
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One message to deliver (the outbox): sent by the scheduler, retried with backoff,
    every attempt's outcome kept."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_channels.id"), default=None
    )
    recipient: Mapped[str] = mapped_column(Text, default="")  # email of a user, if any
    event: Mapped[str] = mapped_column(String(32))  # assigned | escalated | resolved | ...
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # the worker sending it now; a claim of a worker no longer alive is void
    claimed_by: Mapped[str | None] = mapped_column(String(128), default=None)
