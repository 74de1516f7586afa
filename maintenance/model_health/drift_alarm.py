"""The drift alarm: a WARNING ``MODEL_DRIFT`` (source "drift") when a machine type's live
data, or one machine's own, has had a feature over its PSI threshold for several checks in
a row. It is for the
engineers: it opens no ticket and notifies the channels subscribed to "model_drift"; its SOP
(``MODEL_DRIFT``) says what to check and when to retrain. It sits on the machine that moved
most, names the feature, and clears at the first check of the type with no drift."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    Alarm,
    AlarmSource,
    DriftResult,
    Machine,
    Sensor,
    Severity,
)
from maintenance.alarming.raise_clear import AlarmNumbers, update_numbers
from maintenance.model_health.drift_check import DriftRules
from maintenance.notify.outbox import notify_event
from maintenance.ops import alarm_ticket_metrics as metrics

__all__ = ["CODE", "apply_drift_alarms", "health_link"]

CODE = "MODEL_DRIFT"


def health_link(machine_type: str) -> str:
    """The model-health page for one type."""
    return "/model-health?" + urlencode({"type": machine_type})


def apply_drift_alarms(*, session: Session, rules: DriftRules, now: datetime) -> list[Alarm]:
    """Raise, update or clear each type's drift alarm from its latest checks; returns the
    alarms raised now."""
    active = _active(session)
    raised = []
    for kind in _types(session):
        checks = _last_checks(session, kind, rules.alarm_checks)
        worst = [_worst(rows) for rows in checks]
        drifting = len(worst) == rules.alarm_checks and all(
            w is not None and w.status == "drift" for w in worst
        )
        alarm = active.get(kind)
        latest = worst[0] if worst else None
        if alarm is not None and latest is not None and latest.status != "drift":
            alarm.cleared_at = now
            metrics.ALARMS_CLEARED.inc()
        elif alarm is not None and latest is not None:
            alarm.last_seen_at = now
            update_numbers(alarm=alarm, numbers=_numbers(latest, rules), now=now)
        elif drifting and latest is not None:
            raised.append(_raise(session, latest, rules, now))
    return raised


def _raise(session: Session, row: DriftResult, rules: DriftRules, now: datetime) -> Alarm:
    machine = _machine(session, row)
    name = machine.name if machine else "?"
    if row.kind == "machine":
        message = (
            f"Model drift on {name} ({row.machine_type}): its own {row.feature} PSI "
            f"{row.psi:.2f} against the type's reference, over {rules.machine_psi_threshold:g} "
            f"for {rules.alarm_checks} checks"
        )
    else:
        message = (
            f"Model drift on {row.machine_type}: {row.feature} PSI {row.psi:.2f} over "
            f"{rules.psi_threshold:g} for {rules.alarm_checks} checks; most shifted: {name}"
        )
    alarm = Alarm(
        machine_id=machine.id if machine else 0,
        sensor_id=_sensor_id(session, machine, row.feature),
        code=CODE,
        severity=Severity.WARNING,
        source=AlarmSource.DRIFT,
        message=message,
        raised_value=row.psi,
        raised_at=now,
        last_seen_at=now,
    )
    update_numbers(alarm=alarm, numbers=_numbers(row, rules), now=now)
    session.add(alarm)
    session.flush()
    metrics.ALARMS_OPENED.labels(AlarmSource.DRIFT.value, Severity.WARNING.value).inc()
    link = health_link(row.machine_type)
    notify_event(
        session=session,
        event="model_drift",
        payload={"title": f"{message} (model health: {link})", "code": CODE, "link": link},
    )
    return alarm


def _numbers(row: DriftResult, rules: DriftRules) -> AlarmNumbers:
    limit = rules.machine_psi_threshold if row.kind == "machine" else rules.psi_threshold
    return AlarmNumbers(row.psi, limit)


def _active(session: Session) -> dict[str, Alarm]:
    """Uncleared drift alarms by machine type."""
    stmt = (
        select(Machine.type, Alarm)
        .join(Machine, Machine.id == Alarm.machine_id)
        .where(Alarm.code == CODE, Alarm.cleared_at.is_(None))
    )
    return {kind: alarm for kind, alarm in session.execute(stmt)}


def _types(session: Session) -> list[str]:
    return list(session.scalars(select(DriftResult.machine_type).distinct()))


def _last_checks(session: Session, kind: str, n: int) -> list[list[DriftResult]]:
    """The rows of the type's last ``n`` checks, newest first."""
    times = list(
        session.scalars(
            select(DriftResult.checked_at)
            .where(DriftResult.machine_type == kind)
            .distinct()
            .order_by(DriftResult.checked_at.desc())
            .limit(n)
        )
    )
    rows = session.scalars(
        select(DriftResult).where(
            DriftResult.machine_type == kind, DriftResult.checked_at.in_(times)
        )
    ).all()
    return [[r for r in rows if r.checked_at == t] for t in times]


def _worst(rows: list[DriftResult]) -> DriftResult | None:
    """The check's input feature (of the type, or of one machine) that drifted with the
    highest PSI, else the type's input feature with the highest PSI (scores inform, inputs
    alarm)."""
    judged = [
        r
        for r in rows
        if r.kind in ("input", "machine") and r.psi is not None and r.status != "too few"
    ]
    return max(
        judged,
        key=lambda r: (r.status == "drift", r.kind == "input", r.psi or 0.0),
        default=None,
    )


def _machine(session: Session, row: DriftResult) -> Machine | None:
    if row.worst_machine_id is not None:
        machine = session.get(Machine, row.worst_machine_id)
        if machine is not None:
            return machine
    return session.scalar(
        select(Machine).where(Machine.type == row.machine_type).order_by(Machine.id).limit(1)
    )


def _sensor_id(session: Session, machine: Machine | None, feature: str) -> int | None:
    if machine is None:
        return None
    return session.scalar(
        select(Sensor.id).where(
            Sensor.machine_id == machine.id, Sensor.kind == feature.split("_")[0]
        )
    )
