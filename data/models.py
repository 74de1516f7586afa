"""SQLAlchemy 2.0 models: the platform's whole state."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Base",
    "UtcDateTime",
    "Role",
    "Severity",
    "AlarmSource",
    "Priority",
    "TicketStatus",
    "Machine",
    "Sensor",
    "Reading",
    "DeadLetter",
    "Alarm",
    "Ticket",
    "User",
    "AuditLog",
    "JobRun",
    "ModelStatus",
    "ModelVersion",
    "Prediction",
    "DowntimeKind",
    "Downtime",
    "AlarmSilence",
    "Report",
    "AppSetting",
    "JobRequest",
    "ReadingRollup",
    "RollupDirty",
    "Sop",
    "SopVersion",
    "TicketStep",
    "TicketComment",
    "PasswordResetToken",
    "NotificationChannel",
    "Notification",
    "Attachment",
    "Part",
    "TicketPart",
    "MaintenancePlan",
    "PlanProgress",
    "SignInFailure",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    ENGINEER = "engineer"
    TECHNICIAN = "technician"
    VIEWER = "viewer"


class Severity(enum.StrEnum):
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class AlarmSource(enum.StrEnum):
    RULE = "rule"
    ANOMALY = "anomaly"
    PREDICTION = "prediction"


class Priority(enum.StrEnum):
    LOW = "LOW"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class TicketStatus(enum.StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls, name=name, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
    )


class Machine(Base):
    __tablename__ = "machines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(64), default="")
    line: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)

    sensors: Mapped[list[Sensor]] = relationship(back_populates="machine", order_by="Sensor.id")


class Sensor(Base):
    __tablename__ = "sensors"
    __table_args__ = (UniqueConstraint("machine_id", "key", name="uq_sensors_machine_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    key: Mapped[str] = mapped_column(String(32))  # the name used in payloads, e.g. "temperature"
    kind: Mapped[str] = mapped_column(String(32))  # temperature | vibration | rpm | ...
    unit: Mapped[str] = mapped_column(String(16))
    warn_low: Mapped[float | None] = mapped_column(Float, default=None)
    warn_high: Mapped[float | None] = mapped_column(Float, default=None)
    crit_low: Mapped[float | None] = mapped_column(Float, default=None)
    crit_high: Mapped[float | None] = mapped_column(Float, default=None)

    machine: Mapped[Machine] = relationship(back_populates="sensors")


class Reading(Base):
    """One sensor value: narrow, keyed by (sensor_id, ts) so redeliveries never duplicate."""

    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_ts", "ts"),)

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # truncated copy of what arrived
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class Alarm(Base):
    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_active", "machine_id", "code", "cleared_at"),
        Index("ix_alarms_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensors.id"), default=None)
    code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"))
    source: Mapped[AlarmSource] = mapped_column(_enum(AlarmSource, "alarm_source"))
    message: Mapped[str] = mapped_column(Text)
    # the numbers, typed (0012; null on older alarms, whose message says them): the reading,
    # failure probability or anomaly score as last updated while active, and at raise time
    value: Mapped[float | None] = mapped_column(Float, default=None)
    raised_value: Mapped[float | None] = mapped_column(Float, default=None)
    limit_value: Mapped[float | None] = mapped_column(Float, default=None)  # or threshold
    unit: Mapped[str | None] = mapped_column(String(16), default=None)  # a sensor's; None: model
    # the machine's prediction (model alarms): probability, remaining life in wall-clock hours
    failure_probability: Mapped[float | None] = mapped_column(Float, default=None)
    rul_hours: Mapped[float | None] = mapped_column(Float, default=None)
    raised_failure_probability: Mapped[float | None] = mapped_column(Float, default=None)
    raised_rul_hours: Mapped[float | None] = mapped_column(Float, default=None)
    values_at: Mapped[datetime | None] = mapped_column(default=None)  # when last updated
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # raised during a maintenance window: recorded, but no banner and no ticket
    silenced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the ticket this alarm opened or joined (one open fault ticket per machine)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", name="fk_alarms_ticket_id", use_alter=True), default=None
    )

    machine: Mapped[Machine] = relationship()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
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


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_open", "machine_id", "code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"), default=None)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "priority"))
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.OPEN
    )
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    assignment_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution: Mapped[str] = mapped_column(Text, default="")
    failure_confirmed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # what the technician found and did when resolving (resolution keeps the free note)
    cause: Mapped[str] = mapped_column(Text, default="", server_default="")
    action_taken: Mapped[str] = mapped_column(Text, default="", server_default="")
    # escalated to the managers: not started within its priority's limit
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    # when a worse alarm last raised the priority: the escalation clock restarts there
    priority_at: Mapped[datetime | None] = mapped_column(default=None)
    # planned work: opened by a preventive-maintenance plan ahead of its due date
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_plans.id"), default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)

    machine: Mapped[Machine] = relationship()
    technician: Mapped[User | None] = relationship()


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


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class ModelStatus(enum.StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"


class ModelVersion(Base):
    """A trained model in the registry: one per kind is active at a time."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_model_versions_kind_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # anomaly | failure
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[ModelStatus] = mapped_column(
        _enum(ModelStatus, "model_status"), default=ModelStatus.CANDIDATE
    )
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    features: Mapped[list] = mapped_column(JSON, default=list)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    train_from: Mapped[datetime | None] = mapped_column(default=None)
    train_to: Mapped[datetime | None] = mapped_column(default=None)
    artefact: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(default=None)


class LabRunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class LabRun(Base):
    """A model-lab job (train, backtest, weekly retrain) the worker runs in the background;
    progress, stage and the loss curve are written as it goes, the result at the end."""

    __tablename__ = "lab_runs"
    __table_args__ = (Index("ix_lab_runs_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # train | backtest | retrain
    status: Mapped[LabRunStatus] = mapped_column(
        _enum(LabRunStatus, "lab_run_status"), default=LabRunStatus.QUEUED
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
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Prediction(Base):
    """One scoring of one machine: anomaly, failure probability, remaining useful life."""

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_machine_ts", "machine_id", "ts"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    anomaly_score: Mapped[float | None] = mapped_column(Float, default=None)
    is_anomaly: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_probability: Mapped[float | None] = mapped_column(Float, default=None)
    # remaining useful life in wall-clock hours at the plant (the worker divides the models'
    # hours by the live time scale: 60 in the demo, whose simulator runs 60x the clock)
    rul_hours: Mapped[float | None] = mapped_column(Float, default=None)
    top_sensors: Mapped[list] = mapped_column(JSON, default=list)
    model_versions: Mapped[dict] = mapped_column(JSON, default=dict)


class DowntimeKind(enum.StrEnum):
    BREAKDOWN = "breakdown"  # unplanned: a failure stopped the machine
    PLANNED = "planned"  # maintenance work that stopped it on purpose


class Downtime(Base):
    """A period a machine did not run; breakdowns are what reports count."""

    __tablename__ = "downtime"
    __table_args__ = (Index("ix_downtime_machine_started", "machine_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    kind: Mapped[DowntimeKind] = mapped_column(_enum(DowntimeKind, "downtime_kind"))
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # None: still down
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    source: Mapped[str] = mapped_column(String(16), default="ticket")  # ticket | backfill | manual
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlarmSilence(Base):
    """A maintenance window: the machine's alarms are still recorded but alert nobody."""

    __tablename__ = "alarm_silences"
    __table_args__ = (Index("ix_alarm_silences_machine_ends", "machine_id", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class Report(Base):
    """A stored report (the weekly one the scheduler builds): summary, CSV and PDF."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "period_start", name="uq_reports_kind_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    csv: Mapped[bytes] = mapped_column(LargeBinary)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class Sop(Base):
    """The standard operating procedure for one error code; its text lives in versions."""

    __tablename__ = "sops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SopVersion(Base):
    """One saved text of an SOP (Markdown) with its numbered steps parsed out; never changed."""

    __tablename__ = "sop_versions"
    __table_args__ = (UniqueConstraint("sop_id", "version", name="uq_sop_versions_sop_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sop_id: Mapped[int] = mapped_column(ForeignKey("sops.id"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    steps: Mapped[list] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketStep(Base):
    """Whether one step of the SOP version a ticket is worked against is done, and by whom."""

    __tablename__ = "ticket_steps"
    __table_args__ = (
        UniqueConstraint("ticket_id", "sop_version_id", "step", name="uq_ticket_steps_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    sop_version_id: Mapped[int] = mapped_column(ForeignKey("sop_versions.id"))
    step: Mapped[int] = mapped_column(Integer)  # index into the version's steps, from 0
    done: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketComment(Base):
    """A plain-text comment on a ticket."""

    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class RollupDirty(Base):
    """A ten-minute bucket that got readings after it was rolled up (a gateway catching
    up): the rollup job recomputes it; until then long ranges read it raw."""

    __tablename__ = "rollup_dirty"

    bucket: Mapped[datetime] = mapped_column(primary_key=True)


class ReadingRollup(Base):
    """Ten-minute aggregate of one sensor (count, mean, min, max): long ranges are drawn
    from it, and retention keeps it once raw readings are removed."""

    __tablename__ = "readings_10m"

    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)  # start of the 10 minutes
    n: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)


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


class Attachment(Base):
    """A photo or PDF on a ticket, stored under a generated name outside any served folder."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, shown only
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))  # from the content, not the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Part(Base):
    """A spare part in stock, used on machine types; below its minimum it warns managers."""

    __tablename__ = "parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16), default="pcs")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    min_stock: Mapped[int] = mapped_column(Integer, default=0)
    machine_types: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketPart(Base):
    """Parts used on a ticket (taken from stock), with who and when."""

    __tablename__ = "ticket_parts"
    __table_args__ = (Index("ix_ticket_parts_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


class MaintenancePlan(Base):
    """Preventive maintenance for a machine or every machine of a type: by calendar (every
    N days) or by usage (every N running hours from the machine's rpm readings)."""

    __tablename__ = "maintenance_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32))  # the SOP the planned ticket links to
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machines.id"), default=None)
    machine_type: Mapped[str | None] = mapped_column(String(32), default=None)
    every_days: Mapped[float | None] = mapped_column(Float, default=None)
    every_running_hours: Mapped[float | None] = mapped_column(Float, default=None)
    lead_days: Mapped[float] = mapped_column(Float, default=3.0)  # open the ticket this early
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanProgress(Base):
    """Where one machine stands on one plan: when it was last done, the running hours
    then, and the next due date (moved from the completion, not the old schedule)."""

    __tablename__ = "plan_progress"
    __table_args__ = (UniqueConstraint("plan_id", "machine_id", name="uq_plan_progress"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("maintenance_plans.id"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    last_done_at: Mapped[datetime | None] = mapped_column(default=None)
    running_hours_at_last: Mapped[float] = mapped_column(Float, default=0.0)
    next_due_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInFailure(Base):
    """One failed sign-in: the account name tried, from which address, when. The throttle
    counts them per account and address and per address (maintenance/people/sign_in_limits.py)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_pair", "account", "address", "at"),
        Index("ix_sign_in_failures_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
