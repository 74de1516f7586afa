"""How good the live alarms turned out to be, per machine type, from what people and the plant
said afterwards: technicians' verdicts on the tickets the alarms opened or joined (real failure
or false alarm) and the breakdowns recorded (resolutions, managers, stop detection).

Where there are fewer labels than ``min_labels``, the number is None and the counts say why:
a precision of 100 % from one verdict is not a number to act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Alarm, AlarmSource, Downtime, DowntimeKind, Machine, Ticket

__all__ = ["Quality", "realised_quality"]


@dataclass(frozen=True, slots=True)
class Quality:
    """One type over one rolling period. ``precision``: prediction alarms whose ticket was
    confirmed a real failure, among those with a verdict; ``recall``: failures with a
    prediction alarm on the machine within ``horizon`` before them; ``lead_h``: the median
    hours between that alarm and the failure; None where labels are too few."""

    machine_type: str
    days: int
    alarms: int
    confirmed: int
    false_alarms: int
    precision: float | None
    failures: int
    caught: int
    recall: float | None
    lead_h: float | None
    anomaly_alarms: int
    anomaly_per_machine_week: float | None


def realised_quality(
    *, session: Session, now: datetime, days: int, horizon: timedelta, min_labels: int
) -> list[Quality]:
    """Every machine type's realised alarm quality over the last ``days`` days."""
    since = now - timedelta(days=days)
    machines = {m: t for m, t in session.execute(select(Machine.id, Machine.type))}
    alarms = session.execute(
        select(Alarm.machine_id, Alarm.source, Alarm.raised_at, Ticket.failure_confirmed)
        .outerjoin(Ticket, Ticket.id == Alarm.ticket_id)
        .where(Alarm.raised_at >= since - horizon, Alarm.raised_at < now)
        .where(Alarm.source.in_([AlarmSource.PREDICTION, AlarmSource.ANOMALY]))
    ).all()
    failures = _failures(session, since, now)
    out = []
    for kind in sorted(set(machines.values())):
        ids = {m for m, t in machines.items() if t == kind}
        mine = [a for a in alarms if a.machine_id in ids]
        out.append(_quality(kind, days, ids, mine, failures, since, horizon, min_labels))
    return out


def _quality(
    kind: str,
    days: int,
    ids: set[int],
    alarms: list,
    failures: list[tuple[int, datetime]],
    since: datetime,
    horizon: timedelta,
    min_labels: int,
) -> Quality:
    predicted = [a for a in alarms if a.source == AlarmSource.PREDICTION and a.raised_at >= since]
    confirmed = sum(a.failure_confirmed is True for a in predicted)
    false = sum(a.failure_confirmed is False for a in predicted)
    leads = []
    mine = [(m, t) for m, t in failures if m in ids]
    for machine_id, at in mine:
        before = [
            a.raised_at
            for a in alarms
            if a.source == AlarmSource.PREDICTION
            and a.machine_id == machine_id
            and at - horizon <= a.raised_at <= at
        ]
        if before:
            leads.append((at - min(before)).total_seconds() / 3600)
    anomaly = sum(a.source == AlarmSource.ANOMALY and a.raised_at >= since for a in alarms)
    labelled = confirmed + false
    weeks = len(ids) * days / 7
    return Quality(
        machine_type=kind,
        days=days,
        alarms=len(predicted),
        confirmed=confirmed,
        false_alarms=false,
        precision=confirmed / labelled if labelled >= min_labels else None,
        failures=len(mine),
        caught=len(leads),
        recall=len(leads) / len(mine) if len(mine) >= min_labels else None,
        lead_h=median(leads) if len(leads) >= min_labels else None,
        anomaly_alarms=anomaly,
        anomaly_per_machine_week=anomaly / weeks if weeks else None,
    )


def _failures(session: Session, since: datetime, now: datetime) -> list[tuple[int, datetime]]:
    """(machine id, time) of every failure in the period: breakdowns, and tickets confirmed a
    real failure that no breakdown records (one failure seen twice counts once)."""
    stops = session.execute(
        select(Downtime.machine_id, Downtime.started_at, Downtime.ticket_id).where(
            Downtime.kind == DowntimeKind.BREAKDOWN,
            Downtime.started_at >= since,
            Downtime.started_at < now,
        )
    ).all()
    with_stop = {s.ticket_id for s in stops if s.ticket_id is not None}
    confirmed = session.execute(
        select(Ticket.id, Ticket.machine_id, Ticket.started_at, Ticket.created_at).where(
            Ticket.failure_confirmed.is_(True),
            Ticket.created_at >= since,
            Ticket.created_at < now,
        )
    ).all()
    out = [(s.machine_id, s.started_at) for s in stops]
    out += [
        (t.machine_id, t.started_at or t.created_at) for t in confirmed if t.id not in with_stop
    ]
    return out
