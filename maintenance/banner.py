"""The red warning on every page: machines predicted to fail and machines that stopped
without planned work, until someone acknowledges them. One line per machine; its numbers
come from the machine's latest prediction (typed columns), never from an alarm's text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from data.fleet import latest_predictions
from data.models import Alarm, AlarmSource, Machine, Prediction, Severity
from maintenance.alarms import acknowledge
from maintenance.machine_state import STOP_CODE

__all__ = ["RedWarning", "red_warnings", "acknowledge_warning"]


@dataclass(frozen=True, slots=True)
class RedWarning:
    alarm_id: int  # the alarm its Acknowledge button names (the stop, else the prediction)
    machine: str
    kind: str  # stopped | predicted
    since: datetime  # when that alarm was raised
    failure_probability: float | None = None  # the latest prediction, if any
    rul_hours: float | None = None  # wall-clock hours
    predicted_at: datetime | None = None


def _unacknowledged() -> object:
    """Banner alarms: predicted failures and critical stops, active, seen by nobody yet,
    not raised during a maintenance window (planned work does not alarm anybody)."""
    stop = and_(Alarm.code == STOP_CODE, Alarm.severity == Severity.CRITICAL)
    return and_(
        or_(Alarm.source == AlarmSource.PREDICTION, stop),
        Alarm.cleared_at.is_(None),
        Alarm.acknowledged_at.is_(None),
        Alarm.silenced.is_(False),
    )


def red_warnings(*, session: Session) -> list[RedWarning]:
    """What the red banner shows: stopped machines first, then the oldest warning first."""
    stmt = (
        select(Alarm, Machine.name)
        .join(Machine, Machine.id == Alarm.machine_id)
        .where(_unacknowledged(), Machine.retired_at.is_(None))
        .order_by(Alarm.raised_at, Alarm.id)
    )
    by_machine: dict[int, list[tuple[Alarm, str]]] = {}
    for alarm, name in session.execute(stmt):
        by_machine.setdefault(alarm.machine_id, []).append((alarm, name))
    predictions = latest_predictions(session=session) if by_machine else {}
    warnings = [_warning(rows, predictions.get(mid)) for mid, rows in by_machine.items()]
    return sorted(warnings, key=lambda w: (w.kind != "stopped", w.since))


def _warning(rows: list[tuple[Alarm, str]], p: Prediction | None) -> RedWarning:
    stop = next((a for a, _ in rows if a.code == STOP_CODE), None)
    alarm = stop or rows[0][0]
    if stop is not None:  # a stopped machine is not scored: its last prediction is stale
        return RedWarning(alarm.id, rows[0][1], "stopped", alarm.raised_at)
    return RedWarning(
        alarm.id,
        rows[0][1],
        "predicted",
        alarm.raised_at,
        p.failure_probability if p else None,
        p.rul_hours if p else None,
        p.ts if p else None,
    )


def acknowledge_warning(*, session: Session, alarm_id: int, user_id: int) -> int:
    """Acknowledge a banner line: the alarm and the machine's other banner alarms (its
    prediction and its stop are one warning). Returns how many were acknowledged."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        return 0
    ids = session.scalars(
        select(Alarm.id).where(_unacknowledged(), Alarm.machine_id == alarm.machine_id)
    ).all()
    return sum(acknowledge(session=session, alarm_id=i, user_id=user_id) for i in ids)
