"""Machines and sensors: seeding a fleet and resolving payload names to sensor ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from data.models import Alarm, Downtime, Machine, Prediction, Sensor, Severity, Ticket, TicketStatus

__all__ = [
    "SensorSpec",
    "MachineSpec",
    "MachineCard",
    "ensure_fleet",
    "sensor_directory",
    "machine_cards",
    "open_ticket_count",
    "machine_names",
]


@dataclass(frozen=True, slots=True)
class SensorSpec:
    key: str
    kind: str
    unit: str
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None


@dataclass(frozen=True, slots=True)
class MachineSpec:
    name: str
    type: str
    location: str
    line: str
    sensors: tuple[SensorSpec, ...]

    @classmethod
    def like(cls, machine: Any) -> MachineSpec:
        """The spec of any machine description with the same fields (the simulator's
        ``MachineDef``, whose package this one may not import)."""
        sensors = tuple(
            SensorSpec(s.key, s.kind, s.unit, s.warn_low, s.warn_high, s.crit_low, s.crit_high)
            for s in machine.sensors
        )
        return cls(machine.name, machine.type, machine.location, machine.line, sensors)


def ensure_fleet(*, session: Session, machines: Iterable[MachineSpec]) -> int:
    """Create the machines and sensors that do not exist yet; returns how many were added."""
    existing = {m.name: m for m in session.scalars(select(Machine))}
    added = 0
    for spec in machines:
        machine = existing.get(spec.name)
        if machine is None:
            machine = Machine(
                name=spec.name, type=spec.type, location=spec.location, line=spec.line
            )
            session.add(machine)
            added += 1
        have = {s.key for s in machine.sensors}
        for s in spec.sensors:
            if s.key not in have:
                machine.sensors.append(
                    Sensor(
                        key=s.key,
                        kind=s.kind,
                        unit=s.unit,
                        warn_low=s.warn_low,
                        warn_high=s.warn_high,
                        crit_low=s.crit_low,
                        crit_high=s.crit_high,
                    )
                )
    session.flush()
    return added


def sensor_directory(*, session: Session) -> dict[tuple[str, str], int]:
    """(machine name, sensor key) -> sensor id, for machines that are not retired."""
    stmt = (
        select(Machine.name, Sensor.key, Sensor.id)
        .join(Sensor, Sensor.machine_id == Machine.id)
        .where(Machine.retired_at.is_(None))
    )
    return {(name, key): sid for name, key, sid in session.execute(stmt)}


@dataclass(frozen=True, slots=True)
class MachineCard:
    """What the fleet overview shows of one machine."""

    id: int
    name: str
    type: str
    location: str
    status: str  # ok | warning | critical
    active_alarms: int
    alarm_text: str
    warn_high: dict[str, float]  # sensor kind -> warning limit, for the graphs' limit lines
    failure_probability: float | None = None  # from the latest prediction, if any
    rul_hours: float | None = None


def machine_cards(*, session: Session) -> list[MachineCard]:
    """Every machine in service with its status from active alarms, worst first."""
    latest = select(func.max(Prediction.id)).group_by(Prediction.machine_id)
    predictions = {
        p.machine_id: p
        for p in session.scalars(select(Prediction).where(Prediction.id.in_(latest)))
    }
    alarms: dict[int, list[Alarm]] = {}
    for alarm in session.scalars(select(Alarm).where(Alarm.cleared_at.is_(None))):
        alarms.setdefault(alarm.machine_id, []).append(alarm)
    cards = []
    machines = (
        select(Machine).where(Machine.retired_at.is_(None)).options(selectinload(Machine.sensors))
    )
    for m in session.scalars(machines):
        active = alarms.get(m.id, [])
        status = "ok"
        if active:
            worst = any(a.severity is Severity.CRITICAL for a in active)
            status = "critical" if worst else "warning"
        text = "; ".join(f"{a.code} ({a.severity.value.lower()})" for a in active)
        limits = {s.kind: s.warn_high for s in m.sensors if s.warn_high is not None}
        p = predictions.get(m.id)
        cards.append(
            MachineCard(
                m.id,
                m.name,
                m.type,
                m.location,
                status,
                len(active),
                text,
                limits,
                p.failure_probability if p else None,
                p.rul_hours if p else None,
            )
        )
    rank = {"critical": 0, "warning": 1, "ok": 2}
    return sorted(cards, key=lambda c: (rank[c.status], -(c.failure_probability or 0), c.name))


def open_ticket_count(*, session: Session) -> int:
    stmt = select(func.count(Ticket.id)).where(Ticket.status != TicketStatus.RESOLVED)
    return int(session.scalar(stmt) or 0)


def machine_names(*, session: Session) -> dict[int, str]:
    return dict(session.execute(select(Machine.id, Machine.name)).all())


def life_starts(*, session: Session) -> dict[int, datetime]:
    """Per machine, when its current life began: the end of its last downtime (a repair or
    maintenance renews it), else when it was added."""
    last_end = (
        select(Downtime.machine_id, func.max(Downtime.ended_at).label("ended"))
        .where(Downtime.ended_at.is_not(None))
        .group_by(Downtime.machine_id)
        .subquery()
    )
    rows = session.execute(
        select(Machine.id, Machine.created_at, last_end.c.ended).outerjoin(
            last_end, last_end.c.machine_id == Machine.id
        )
    )
    return {mid: max(created, ended) if ended else created for mid, created, ended in rows}
