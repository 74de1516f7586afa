"""Raising and clearing alarms, shared by threshold rules and model predictions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Alarm, AlarmSource, AuditLog, Machine, Priority, Severity, utcnow
from maintenance import metrics
from maintenance.tickets import open_ticket

__all__ = [
    "raise_alarm",
    "active_alarms",
    "clear_stale",
    "red_warnings",
    "acknowledge",
    "RedWarning",
    "PRIORITY",
]

PRIORITY = {Severity.WARNING: Priority.HIGH, Severity.CRITICAL: Priority.CRITICAL}


def active_alarms(*, session: Session, source: AlarmSource) -> dict[tuple[int, str], Alarm]:
    """Uncleared alarms of one source, keyed by (machine id, code)."""
    stmt = select(Alarm).where(Alarm.cleared_at.is_(None), Alarm.source == source)
    return {(a.machine_id, a.code): a for a in session.scalars(stmt)}


def raise_alarm(
    *,
    session: Session,
    machine_id: int,
    code: str,
    severity: Severity,
    source: AlarmSource,
    message: str,
    value: float | None,
    now: datetime,
    sensor_id: int | None = None,
) -> tuple[Alarm, int | None]:
    """A new alarm and, unless one is open for the machine and code, its ticket id."""
    alarm = Alarm(
        machine_id=machine_id,
        sensor_id=sensor_id,
        code=code,
        severity=severity,
        source=source,
        message=message,
        value=value,
        raised_at=now,
        last_seen_at=now,
    )
    session.add(alarm)
    session.flush()
    metrics.ALARMS_OPENED.labels(source.value, severity.value).inc()
    ticket = open_ticket(
        session=session,
        machine_id=machine_id,
        code=code,
        title=message,
        priority=PRIORITY[severity],
        alarm_id=alarm.id,
    )
    return alarm, ticket.id if ticket else None


def clear_stale(
    *, alarms: dict[tuple[int, str], Alarm], held: set[int], now: datetime, clear_after: timedelta
) -> list[int]:
    """Clear alarms whose condition has been absent for ``clear_after`` (hysteresis)."""
    cleared = []
    for alarm in alarms.values():
        if alarm.id not in held and alarm.last_seen_at < now - clear_after:
            alarm.cleared_at = now
            cleared.append(alarm.id)
            metrics.ALARMS_CLEARED.inc()
    return cleared


@dataclass(frozen=True, slots=True)
class RedWarning:
    alarm_id: int
    machine: str
    message: str
    raised_at: datetime


def red_warnings(*, session: Session) -> list[RedWarning]:
    """Predicted failures nobody has acknowledged yet: what the red banner shows."""
    stmt = (
        select(Alarm, Machine.name)
        .join(Machine, Machine.id == Alarm.machine_id)
        .where(
            Alarm.source == AlarmSource.PREDICTION,
            Alarm.cleared_at.is_(None),
            Alarm.acknowledged_at.is_(None),
        )
        .order_by(Alarm.raised_at)
    )
    return [RedWarning(a.id, name, a.message, a.raised_at) for a, name in session.execute(stmt)]


def acknowledge(*, session: Session, alarm_id: int, user_id: int) -> bool:
    """Record who saw the alarm and when (audited); False if it was already acknowledged."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or alarm.acknowledged_at is not None:
        return False
    alarm.acknowledged_at, alarm.acknowledged_by = utcnow(), user_id
    session.add(
        AuditLog(
            user_id=user_id,
            action="alarm.acknowledge",
            entity="alarm",
            entity_id=str(alarm_id),
            after={"code": alarm.code},
        )
    )
    return True
