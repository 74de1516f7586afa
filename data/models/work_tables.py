"""Maintenance work: alarms, tickets with their steps, comments, files and parts, the SOP library,
preventive plans, stored reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import (
    AlarmSource,
    Base,
    Priority,
    Severity,
    TicketStatus,
    enum_column,
    utcnow,
)
from data.models.people_tables import User
from data.models.plant_tables import Machine


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
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    source: Mapped[AlarmSource] = mapped_column(enum_column(AlarmSource, "alarm_source"))
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


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_open", "machine_id", "code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"), default=None)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"))
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus, "ticket_status"), default=TicketStatus.OPEN
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


class Attachment(Base):
    """A photo or PDF on a ticket; its bytes are in ``attachment_blobs`` (``stored_name``:
    where earlier releases kept it under ``var_dir/attachments``, unique still)."""

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
