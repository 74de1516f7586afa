"""Model predictions become alarms and tickets: failure probability over the threshold
raises a CRITICAL alarm (and ticket) once per episode; sustained anomalies raise warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from data.fleet_queries import machine_names
from data.models import AlarmSource, Prediction, Severity
from maintenance.alarming.raise_clear import (
    AlarmNumbers,
    active_alarms,
    clear_stale,
    raise_alarm,
    update_numbers,
)
from maintenance.alarming.threshold_rules import RuleOutcome
from ml.alarm_policy import PredictionPolicy
from ml.scoring import MachineScore

__all__ = [
    "MachineScore",
    "in_wall_time",
    "store_predictions",
    "apply_predictions",
    "FAILURE_CODE",
    "ANOMALY_CODE",
]

FAILURE_CODE, ANOMALY_CODE = "PRED_FAILURE", "ANOMALY"


def in_wall_time(*, scores: Sequence[MachineScore], time_scale: float) -> list[MachineScore]:
    """The scores with their remaining life in wall-clock hours: the models count model
    hours, which the demo's simulator lives ``time_scale`` times faster than the clock."""
    return [
        replace(s, rul_hours=s.rul_hours / time_scale) if s.rul_hours is not None else s
        for s in scores
    ]


def store_predictions(
    *, session: Session, scores: Sequence[MachineScore], now: datetime, versions: dict[str, int]
) -> None:
    if scores:
        session.execute(
            insert(Prediction),
            [
                {
                    "machine_id": s.machine_id,
                    "ts": now,
                    "anomaly_score": s.anomaly_score,
                    "is_anomaly": s.is_anomaly,
                    "failure_probability": s.failure_probability,
                    "rul_hours": s.rul_hours,
                    "top_sensors": s.top_sensors,
                    "model_versions": versions,
                }
                for s in scores
            ],
        )


def apply_predictions(
    *, session: Session, scores: Sequence[MachineScore], now: datetime, policy: PredictionPolicy
) -> RuleOutcome:
    """Raise, hold and clear prediction and anomaly alarms for one scoring tick."""
    outcome = RuleOutcome()
    names = machine_names(session=session)
    checks = (
        (
            AlarmSource.PREDICTION,
            FAILURE_CODE,
            Severity.CRITICAL,
            "failure_probability",
            policy.failure_threshold,
            policy.failure_clear_below,
        ),
        (
            AlarmSource.ANOMALY,
            ANOMALY_CODE,
            Severity.WARNING,
            "anomaly_score",
            policy.anomaly_threshold,
            policy.anomaly_clear_below,
        ),
    )
    for source, code, severity, field, threshold, clear_below in checks:
        active = active_alarms(session=session, source=source)
        held: set[int] = set()
        for s in scores:
            value = getattr(s, field)
            if value is None:
                continue
            alarm = active.get((s.machine_id, code))
            numbers = AlarmNumbers(value, threshold, None, s.failure_probability, s.rul_hours)
            if (
                alarm is None
                and value >= threshold
                and _sustained(session, s.machine_id, field, threshold, policy, code)
            ):
                alarm, ticket_id = raise_alarm(
                    session=session,
                    machine_id=s.machine_id,
                    code=code,
                    severity=severity,
                    source=source,
                    message=_message(names.get(s.machine_id, "?"), code, s, threshold),
                    value=value,
                    now=now,
                    numbers=numbers,
                )
                outcome.raised.append(alarm.id)
                outcome.tickets += [ticket_id] if ticket_id else []
            if alarm is not None:  # every scoring: the banner shows the latest numbers
                update_numbers(alarm=alarm, numbers=numbers, now=now)
            if alarm is not None and value >= clear_below:
                alarm.last_seen_at = now
                held.add(alarm.id)
        outcome.cleared += clear_stale(
            alarms=active, held=held, now=now, clear_after=policy.clear_after
        )
    return outcome


def _sustained(
    session: Session,
    machine_id: int,
    field: str,
    threshold: float,
    policy: PredictionPolicy,
    code: str,
) -> bool:
    """An anomaly must persist: one odd window is not worth waking anyone for."""
    if code != ANOMALY_CODE or policy.anomaly_sustained <= 1:
        return True
    column = getattr(Prediction, field)
    recent = session.scalars(
        select(column)
        .where(Prediction.machine_id == machine_id)
        .order_by(Prediction.id.desc())
        .limit(policy.anomaly_sustained)
    ).all()
    return len(recent) == policy.anomaly_sustained and all(
        v is not None and v >= threshold for v in recent
    )


def _message(machine: str, code: str, s: MachineScore, threshold: float) -> str:
    """What was raised, true for as long as the alarm lives: the numbers of the moment go
    stale within seconds (screens read the alarm's typed columns instead)."""
    if code == FAILURE_CODE:
        return f"{machine}: failure predicted (probability over the {threshold:.0%} threshold)"
    sensors = ", ".join(s.top_sensors) or "several sensors"
    return f"{machine}: abnormal behaviour (score over {threshold:.2f}), mostly {sensors}"
