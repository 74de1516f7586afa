"""Raising and clearing alarms, shared by threshold rules and model predictions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
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
from maintenance.machine_status.maintenance_windows import is_silenced
from maintenance.ops import alarm_ticket_metrics as metrics
from maintenance.rendering.human_units import format_crossing
from maintenance.ticketing.ticket_flow import open_fault_ticket, open_ticket, raise_priority

__all__ = [
    "AlarmNumbers",
    "raise_alarm",
    "update_numbers",
    "still_active",
    "worsen_alarm",
    "active_alarms",
    "clear_stale",
    "acknowledge",
    "clear",
    "AlarmRow",
    "list_alarms",
    "latest_numbers",
    "alarm_reading",
    "PRIORITY",
]

PRIORITY = {Severity.WARNING: Priority.HIGH, Severity.CRITICAL: Priority.CRITICAL}


@dataclass(frozen=True, slots=True)
class AlarmNumbers:
    """An alarm's numbers, typed: the reading (or a model's probability or score), the limit
    or threshold it crossed, the sensor's unit (None for a model's number), and the
    machine's failure probability and remaining life in wall-clock hours, if scored."""

    value: float | None
    limit: float | None = None
    unit: str | None = None
    failure_probability: float | None = None
    rul_hours: float | None = None


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
    numbers: AlarmNumbers | None = None,
) -> tuple[Alarm, int | None]:
    """A new alarm and the id of the ticket it opened, if it opened one.

    A machine with an unresolved fault ticket gets the alarm joined to that ticket instead
    (the ticket's history says so and its priority rises with the alarm): one fault shows as
    rule, anomaly and prediction alarms, and should send one technician, not three.
    During a maintenance window the alarm is recorded silenced: no ticket, no banner.
    ``numbers`` are kept as raised and as latest (``value`` alone when not given)."""
    silenced = is_silenced(session=session, machine_id=machine_id, now=now)
    numbers = numbers or AlarmNumbers(value)
    alarm = Alarm(
        machine_id=machine_id,
        sensor_id=sensor_id,
        code=code,
        severity=severity,
        source=source,
        message=message,
        raised_value=numbers.value,
        raised_failure_probability=numbers.failure_probability,
        raised_rul_hours=numbers.rul_hours,
        raised_at=now,
        last_seen_at=now,
        silenced=silenced,
    )
    update_numbers(alarm=alarm, numbers=numbers, now=now)
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


def update_numbers(*, alarm: Alarm, numbers: AlarmNumbers, now: datetime) -> None:
    """The alarm's latest numbers (what screens show while it is active)."""
    alarm.value, alarm.limit_value, alarm.unit = numbers.value, numbers.limit, numbers.unit
    alarm.failure_probability, alarm.rul_hours = numbers.failure_probability, numbers.rul_hours
    alarm.values_at = now


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


_IN_STATE = {  # AlarmRow.state in SQL
    "active": (Alarm.cleared_at.is_(None), Alarm.acknowledged_at.is_(None)),
    "acknowledged": (Alarm.cleared_at.is_(None), Alarm.acknowledged_at.is_not(None)),
    "cleared": (Alarm.cleared_at.is_not(None),),
}


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
    numbers: AlarmNumbers = AlarmNumbers(None)  # the latest

    @property
    def state(self) -> str:
        if self.cleared_at:
            return "cleared"
        return "acknowledged" if self.acknowledged_at else "active"

    @property
    def reading(self) -> str:
        """The latest number and what it crossed, as people read it."""
        return alarm_reading(self.numbers, source=self.source)


def latest_numbers(alarm: Alarm) -> AlarmNumbers:
    """The alarm's numbers as last updated."""
    return AlarmNumbers(
        alarm.value, alarm.limit_value, alarm.unit, alarm.failure_probability, alarm.rul_hours
    )


def alarm_reading(numbers: AlarmNumbers, *, source: str) -> str:
    """An alarm's number with what it crossed, if known: "5.43 mm/s (limit 5.40)",
    "87% (threshold 80%)"; empty without a number."""
    percent = source == AlarmSource.PREDICTION.value
    return format_crossing(numbers.value, numbers.limit, numbers.unit, percent=percent)


def list_alarms(
    *,
    session: Session,
    since: datetime,
    limit: int = 5000,
    machine_id: int | None = None,
    state: str | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[AlarmRow]:
    """Alarms raised since ``since`` or still active, newest first (ties by id, so the
    order is stable); optionally one machine's, in one ``state`` (active, acknowledged,
    cleared), or only those after ``before`` (raised_at, id) in that order: a next page."""
    acker, clearer = aliased(User), aliased(User)
    stmt = (
        select(Alarm, Machine.name, acker.username, clearer.username)
        .join(Machine, Machine.id == Alarm.machine_id)
        .outerjoin(acker, acker.id == Alarm.acknowledged_by)
        .outerjoin(clearer, clearer.id == Alarm.cleared_by)
        .where(or_(Alarm.raised_at >= since, Alarm.cleared_at.is_(None)))
        .order_by(Alarm.raised_at.desc(), Alarm.id.desc())
        .limit(limit)
    )
    if machine_id is not None:
        stmt = stmt.where(Alarm.machine_id == machine_id)
    if state is not None:
        stmt = stmt.where(*_IN_STATE[state])
    if before is not None:
        at, alarm_id = before
        stmt = stmt.where(
            or_(Alarm.raised_at < at, and_(Alarm.raised_at == at, Alarm.id < alarm_id))
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
            latest_numbers(a),
        )
        for a, machine, acked, cleared in session.execute(stmt)
    ]
