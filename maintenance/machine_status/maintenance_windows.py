"""Maintenance windows: while one is open, a machine's alarms are recorded but silenced
(no red banner, no ticket), so planned work does not flood people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AlarmSilence, AuditLog, Machine, User, utcnow

__all__ = [
    "MAX_WINDOW",
    "SilenceError",
    "SilenceRow",
    "active_silences",
    "cancel_silence",
    "is_silenced",
    "silence_machine",
]

MAX_WINDOW = timedelta(days=7)


class SilenceError(ValueError):
    """Bad window input; ``field`` names the form field the message belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class SilenceRow:
    id: int
    machine: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None


def is_silenced(*, session: Session, machine_id: int, now: datetime) -> bool:
    stmt = select(AlarmSilence.id).where(
        AlarmSilence.machine_id == machine_id,
        AlarmSilence.starts_at <= now,
        AlarmSilence.ends_at > now,
        AlarmSilence.cancelled_at.is_(None),
    )
    return session.scalar(stmt.limit(1)) is not None


def silence_machine(
    *, session: Session, machine_id: int | None, hours: float | None, reason: str, user_id: int
) -> AlarmSilence:
    """Open a maintenance window from now for ``hours`` (audited)."""
    machine = session.get(Machine, machine_id) if machine_id is not None else None
    if machine is None:
        raise SilenceError("machine", "Choose the machine to silence.")
    if hours is None or not 0 < hours <= MAX_WINDOW / timedelta(hours=1):
        raise SilenceError("hours", "A window lasts more than 0 and at most 168 hours.")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise SilenceError("reason", "Say why (for example: bearing replacement, planned).")
    now = utcnow()
    window = AlarmSilence(
        machine_id=machine.id,
        starts_at=now,
        ends_at=now + timedelta(hours=hours),
        reason=reason[:500],
        created_by=user_id,
    )
    session.add(window)
    session.flush()
    session.add(
        AuditLog(
            user_id=user_id,
            action="alarm.silence",
            entity="machine",
            entity_id=str(machine.id),
            after={"machine": machine.name, "until": window.ends_at.isoformat(), "reason": reason},
        )
    )
    return window


def cancel_silence(*, session: Session, silence_id: int, user_id: int) -> bool:
    window = session.get(AlarmSilence, silence_id)
    if window is None or window.cancelled_at is not None:
        return False
    window.cancelled_at = utcnow()
    session.add(
        AuditLog(
            user_id=user_id,
            action="alarm.unsilence",
            entity="machine",
            entity_id=str(window.machine_id),
            before={"until": window.ends_at.isoformat()},
        )
    )
    return True


def active_silences(*, session: Session, now: datetime) -> list[SilenceRow]:
    stmt = (
        select(AlarmSilence, Machine.name, User.username)
        .join(Machine, Machine.id == AlarmSilence.machine_id)
        .outerjoin(User, User.id == AlarmSilence.created_by)
        .where(AlarmSilence.ends_at > now, AlarmSilence.cancelled_at.is_(None))
        .order_by(AlarmSilence.ends_at)
    )
    return [
        SilenceRow(w.id, name, w.starts_at, w.ends_at, w.reason, who)
        for w, name, who in session.execute(stmt)
    ]
