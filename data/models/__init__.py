"""SQLAlchemy 2.0 models: the platform's whole state, one module per part of it; every
model is imported from here (``from data.models import Ticket``), which also registers them
all on ``Base.metadata`` for Alembic."""

from __future__ import annotations

from data.models.api_tables import ApiRequestCount, ApiToken
from data.models.base import (
    AlarmSource,
    Base,
    DowntimeKind,
    LabRunStatus,
    ModelStatus,
    Priority,
    Role,
    Severity,
    TicketStatus,
    UtcDateTime,
    utcnow,
)
from data.models.drift_tables import DriftGridChunk, DriftResult
from data.models.file_tables import AttachmentBlob
from data.models.fleet_tables import Lease
from data.models.ops_tables import (
    AppSetting,
    JobRequest,
    JobRun,
    LabRun,
    ModelVersion,
    Notification,
    NotificationChannel,
)
from data.models.people_tables import (
    AuditLog,
    PasswordResetToken,
    SignInFailure,
    User,
)
from data.models.plant_tables import (
    AlarmSilence,
    DeadLetter,
    Downtime,
    Machine,
    Prediction,
    Reading,
    ReadingRollup,
    RollupDirty,
    Sensor,
)
from data.models.session_tables import UserSession
from data.models.work_tables import (
    Alarm,
    Attachment,
    MaintenancePlan,
    Part,
    PlanProgress,
    Report,
    Sop,
    SopVersion,
    Ticket,
    TicketComment,
    TicketPart,
    TicketStep,
)

__all__ = [
    "ApiRequestCount",
    "AttachmentBlob",
    "ApiToken",
    "DriftResult",
    "DriftGridChunk",
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
    "LabRunStatus",
    "LabRun",
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
    "UserSession",
    "Lease",
    "utcnow",
]
