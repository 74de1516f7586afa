"""The red warning on every page: machines predicted to fail and machines that stopped
without planned work, until someone acknowledges them. One line per machine; its numbers
are the prediction alarm's typed columns as of the latest scoring, never its text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from data.models import Alarm, AlarmSource, Machine, Severity
from maintenance.alarming.raise_clear import acknowledge
from maintenance.machine_status.machine_state import STOP_CODE, machine_cards

__all__ = ["RedWarning", "red_warnings", "acknowledge_warning"]


@dataclass(frozen=True, slots=True)
class RedWarning:
    alarm_id: int  # the alarm its Acknowledge button names (the stop, else the prediction)
    machine: str
    kind: str  # stopped | predicted
    since: datetime | None  # when that alarm was raised (stopped: when it stopped, if known)
    failure_probability: float | None = None  # as of the latest scoring (alarms.values_at)
    rul_hours: float | None = None  # wall-clock hours
    predicted_at: datetime | None = None
    message: str = ""  # the alarm's text: what an alarm older than its typed numbers says


def _unacknowledged() -> ColumnElement[bool]:
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
    warnings = {machine_id: _warning(rows) for machine_id, rows in by_machine.items()}
    if any(w.kind == "predicted" for w in warnings.values()):
        warnings = _as_machines_are(session, warnings)
    return sorted(warnings.values(), key=lambda w: (w.kind != "stopped", w.since or _LONG_AGO))


_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def _as_machines_are(session: Session, warnings: dict[int, RedWarning]) -> dict[int, RedWarning]:
    """A prediction line of a machine that is not running is not shown as if it ran: a
    stopped machine (its stop seen in its readings before the rules' window raises the stop
    alarm, an open breakdown, or a stop alarm acknowledged on the alarms page while the
    prediction was not) reads "stopped"; a machine in planned maintenance alarms nobody."""
    cards = {c.id: c for c in machine_cards(session=session)}
    kept = {}
    for machine_id, w in warnings.items():
        card = cards.get(machine_id)
        if w.kind == "predicted" and card is not None and card.status == "stopped":
            kept[machine_id] = RedWarning(w.alarm_id, w.machine, "stopped", card.since)
        elif w.kind != "predicted" or card is None or card.status != "maintenance":
            kept[machine_id] = w
    return kept


def _warning(rows: list[tuple[Alarm, str]]) -> RedWarning:
    stop = next((a for a, _ in rows if a.code == STOP_CODE), None)
    alarm = stop or rows[0][0]
    if stop is not None:  # a stopped machine is not scored: its last prediction is stale
        return RedWarning(alarm.id, rows[0][1], "stopped", alarm.raised_at)
    return RedWarning(
        alarm.id,
        rows[0][1],
        "predicted",
        alarm.raised_at,
        alarm.failure_probability,
        alarm.rul_hours,
        alarm.values_at,
        alarm.message,
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
