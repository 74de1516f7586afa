"""Raising and clearing alarms, shared by threshold rules and model predictions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from data.models import (
    Alarm,
    AlarmSource,
    AuditLog,
    Machine,
    Priority,
    Severity,
    Ticket,
    User,
    utcnow,
)
from maintenance import metrics
from maintenance.silences import is_silenced
from maintenance.tickets import open_fault_ticket, open_ticket, raise_priority

__all__ = [
    "raise_alarm",
    "still_active",
    "worsen_alarm",
    "active_alarms",
    "clear_stale",
    "acknowledge",
    "clear",
    "AlarmRow",
    "list_alarms",
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
    """A new alarm and the id of the ticket it opened, if it opened one.

    A machine with an unresolved fault ticket gets the alarm joined to that ticket instead
    (the ticket's history says so and its priority rises with the alarm): one fault shows as
    rule, anomaly and prediction alarms, and should send one technician, not three.
    During a maintenance window the alarm is recorded silenced: no ticket, no banner."""
    silenced = is_silenced(session=session, machine_id=machine_id, now=now)
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
        silenced=silenced,
    )
    session.add(alarm)
    session.flush()
    metrics.ALARMS_OPENED.labels(source.value, severity.value).inc()
    if silenced:
        return alarm, None
    # the rules and scoring jobs run side by side: one at a time decides open-or-join for a
    # machine (PostgreSQL row lock; SQLite has a single writer anyway)
    session.execute(select(Machine.id).where(Machine.id == machine_id).with_for_update())
    current = open_fault_ticket(session, machine_id)
    if current is not None:
        _join(session, alarm, current)
        return alarm, None
    ticket = open_ticket(
        session=session,
        machine_id=machine_id,
        code=code,
        title=message,
        priority=PRIORITY[severity],
        alarm_id=alarm.id,
    )
    alarm.ticket_id = ticket.id if ticket else None
    return alarm, alarm.ticket_id


def _join(session: Session, alarm: Alarm, ticket: Ticket) -> None:
    alarm.ticket_id = ticket.id
    session.add(
        AuditLog(
            action="ticket.alarm",
            entity="ticket",
            entity_id=str(ticket.id),
            after={"alarm_id": alarm.id, "code": alarm.code, "message": alarm.message},
        )
    )
    raise_priority(session=session, ticket=ticket, priority=PRIORITY[alarm.severity])


def still_active(*, session: Session, ticket_id: int) -> list[Alarm]:
    """The ticket's alarms (the one that opened it and those that joined) not cleared yet:
    resolving the ticket answers for them too."""
    return list(
        session.scalars(
            select(Alarm)
            .where(Alarm.ticket_id == ticket_id, Alarm.cleared_at.is_(None))
            .order_by(Alarm.raised_at, Alarm.id)
        )
    )


def worsen_alarm(*, session: Session, alarm: Alarm, severity: Severity, message: str) -> None:
    """A condition that got worse: the alarm says so, and its unresolved ticket is more urgent."""
    alarm.severity, alarm.message = severity, message
    ticket = session.get(Ticket, alarm.ticket_id) if alarm.ticket_id else None
    raise_priority(session=session, ticket=ticket, priority=PRIORITY[severity])


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


def clear(*, session: Session, alarm_id: int, user_id: int) -> bool:
    """Clear an alarm by hand (audited); False if it was already cleared. A condition
    that persists raises a new alarm on the next evaluation."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or alarm.cleared_at is not None:
        return False
    alarm.cleared_at, alarm.cleared_by = utcnow(), user_id
    metrics.ALARMS_CLEARED.inc()
    session.add(
        AuditLog(
            user_id=user_id,
            action="alarm.clear",
            entity="alarm",
            entity_id=str(alarm_id),
            before={"cleared_at": None},
            after={"code": alarm.code, "cleared_at": alarm.cleared_at.isoformat()},
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class AlarmRow:
    """One line of the alarms table."""

    id: int
    machine: str
    code: str
    severity: str
    source: str
    message: str
    raised_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_by: str | None
    silenced: bool
    ticket_id: int | None = None  # the ticket it opened or joined

    @property
    def state(self) -> str:
        if self.cleared_at:
            return "cleared"
        return "acknowledged" if self.acknowledged_at else "active"


def list_alarms(*, session: Session, since: datetime, limit: int = 5000) -> list[AlarmRow]:
    """Alarms raised since ``since`` or still active, newest first."""
    acker, clearer = aliased(User), aliased(User)
    stmt = (
        select(Alarm, Machine.name, acker.username, clearer.username)
        .join(Machine, Machine.id == Alarm.machine_id)
        .outerjoin(acker, acker.id == Alarm.acknowledged_by)
        .outerjoin(clearer, clearer.id == Alarm.cleared_by)
        .where(or_(Alarm.raised_at >= since, Alarm.cleared_at.is_(None)))
        .order_by(Alarm.raised_at.desc())
        .limit(limit)
    )
    return [
        AlarmRow(
            a.id,
            machine,
            a.code,
            a.severity.value,
            a.source.value,
            a.message,
            a.raised_at,
            a.cleared_at,
            a.acknowledged_at,
            acked,
            cleared,
            a.silenced,
            a.ticket_id,
        )
        for a, machine, acked, cleared in session.execute(stmt)
    ]
