"""Threshold rules: per-sensor warning/critical limits raise alarms and open tickets.

Each sensor is judged on the mean of its readings over a short window, so one noisy
sample neither raises nor clears an alarm. An alarm clears only after its condition
has been absent for ``clear_after`` (hysteresis against flapping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Alarm, AlarmSource, Machine, Reading, Sensor, Severity
from maintenance.alarming.raise_clear import (
    AlarmNumbers,
    active_alarms,
    clear_stale,
    raise_alarm,
    update_numbers,
    worsen_alarm,
)
from maintenance.rendering.human_units import format_apart

__all__ = ["RuleOutcome", "Breach", "judge", "evaluate_rules", "error_code"]

_KIND_CODES = {"temperature": "TEMP", "vibration": "VIB", "rpm": "RPM"}
_RANK = {Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(slots=True)
class RuleOutcome:
    raised: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    tickets: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Breach:
    code: str
    severity: Severity
    limit: float


def error_code(kind: str, side: str) -> str:
    """The error code for a limit breach, e.g. ``VIB_HIGH``: it names the SOP to follow."""
    return f"{_KIND_CODES.get(kind, kind.upper()[:8])}_{side}"


def judge(sensor: Sensor, value: float) -> Breach | None:
    """Which limit, if any, ``value`` breaks; critical wins over warning."""
    checks = (
        (Severity.CRITICAL, "HIGH", sensor.crit_high, value >= (sensor.crit_high or 0)),
        (Severity.CRITICAL, "LOW", sensor.crit_low, value <= (sensor.crit_low or 0)),
        (Severity.WARNING, "HIGH", sensor.warn_high, value >= (sensor.warn_high or 0)),
        (Severity.WARNING, "LOW", sensor.warn_low, value <= (sensor.warn_low or 0)),
    )
    for severity, side, limit, broken in checks:
        if limit is not None and broken:
            return Breach(error_code(sensor.kind, side), severity, limit)
    return None


def evaluate_rules(
    *, session: Session, now: datetime, window: timedelta, clear_after: timedelta
) -> RuleOutcome:
    """Raise, escalate and clear rule alarms from recent readings; open tickets for new ones."""
    outcome = RuleOutcome()
    means: dict[int, float] = dict(
        session.execute(
            select(Reading.sensor_id, func.avg(Reading.value))
            .where(Reading.ts >= now - window)
            .group_by(Reading.sensor_id)
        ).all()
    )
    sensors = session.scalars(
        select(Sensor)
        .join(Machine)
        .where(Machine.retired_at.is_(None), Sensor.id.in_(list(means)))
        .order_by(Sensor.id)  # limits broken together raise in the machine's sensor order
    ).all()
    active = active_alarms(session=session, source=AlarmSource.RULE)
    held: set[int] = set()
    for sensor in sensors:
        breach = judge(sensor, means[sensor.id])
        if breach is not None:
            held.add(_hold(session, sensor, breach, means[sensor.id], now, active, outcome))
    outcome.cleared = clear_stale(alarms=active, held=held, now=now, clear_after=clear_after)
    return outcome


def _hold(
    session: Session,
    sensor: Sensor,
    breach: Breach,
    value: float,
    now: datetime,
    active: dict[tuple[int, str], Alarm],
    outcome: RuleOutcome,
) -> int:
    alarm = active.get((sensor.machine_id, breach.code))
    numbers = AlarmNumbers(value, breach.limit, sensor.unit)
    if alarm is None:
        alarm, ticket_id = raise_alarm(
            session=session,
            machine_id=sensor.machine_id,
            code=breach.code,
            severity=breach.severity,
            source=AlarmSource.RULE,
            message=_message(sensor, breach, value),
            value=value,
            now=now,
            sensor_id=sensor.id,
            numbers=numbers,
        )
        outcome.raised.append(alarm.id)
        if ticket_id is not None:
            outcome.tickets.append(ticket_id)
    elif _RANK[breach.severity] > _RANK[alarm.severity]:
        worsen_alarm(
            session=session,
            alarm=alarm,
            severity=breach.severity,
            message=_message(sensor, breach, value),
        )
        outcome.escalated.append(alarm.id)
    alarm.last_seen_at = now
    update_numbers(alarm=alarm, numbers=numbers, now=now)
    active[(sensor.machine_id, breach.code)] = alarm
    return alarm.id


def _message(sensor: Sensor, breach: Breach, value: float) -> str:
    side = "above" if breach.code.endswith("HIGH") else "below"
    shown, limit = format_apart(value, breach.limit)  # 5.43 above 5.40, not 5.4 above 5.4
    return (
        f"{sensor.machine.name}: {sensor.kind} {shown} {sensor.unit} {side} "
        f"{breach.severity.value.lower()} limit {limit}"
    )
