"""Machines and sensors: seeding a fleet and resolving payload names to sensor ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from data.models import (
    Alarm,
    Downtime,
    Machine,
    Prediction,
    Reading,
    Role,
    Sensor,
    Ticket,
    TicketStatus,
    User,
)

__all__ = [
    "SensorSpec",
    "MachineSpec",
    "ensure_fleet",
    "sensor_directory",
    "machines_in_service",
    "latest_predictions",
    "uncleared_alarms",
    "open_downtime",
    "machines_with_data",
    "latest_values",
    "open_ticket_count",
    "machine_names",
    "machine_sensor_ids",
    "backdate_machines",
    "active_technician_ids",
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


def _in_service_sensors(*columns: Any) -> Select[Any]:
    """``columns`` of the sensors of machines that are not retired."""
    return (
        select(*columns)
        .select_from(Sensor)
        .join(Machine, Sensor.machine_id == Machine.id)
        .where(Machine.retired_at.is_(None))
    )


def sensor_directory(*, session: Session) -> dict[tuple[str, str], int]:
    """(machine name, sensor key) -> sensor id, for machines that are not retired."""
    stmt = _in_service_sensors(Machine.name, Sensor.key, Sensor.id)
    return {(name, key): sid for name, key, sid in session.execute(stmt)}


def sensor_kinds(*, session: Session) -> dict[int, str]:
    """Sensor id -> its kind, for machines that are not retired."""
    stmt = _in_service_sensors(Sensor.id, Sensor.kind)
    return {sid: kind for sid, kind in session.execute(stmt)}


def kind_units(*, session: Session, kinds: tuple[str, ...]) -> dict[str, list[str]]:
    """The units the sensors of each kind report in, over machines in service (sorted)."""
    stmt = _in_service_sensors(Sensor.kind, Sensor.unit).where(Sensor.kind.in_(kinds)).distinct()
    out: dict[str, list[str]] = {}
    for kind, unit in session.execute(stmt):
        out.setdefault(kind, []).append(unit)
    return {kind: sorted(units) for kind, units in out.items()}


def machines_in_service(*, session: Session) -> list[Machine]:
    """Machines not retired, with their sensors loaded."""
    stmt = (
        select(Machine)
        .where(Machine.retired_at.is_(None))
        .options(selectinload(Machine.sensors))
        .order_by(Machine.id)
    )
    return list(session.scalars(stmt))


def latest_predictions(*, session: Session) -> dict[int, Prediction]:
    """Each machine's newest prediction."""
    latest = select(func.max(Prediction.id)).group_by(Prediction.machine_id)
    stmt = select(Prediction).where(Prediction.id.in_(latest))
    return {p.machine_id: p for p in session.scalars(stmt)}


def uncleared_alarms(*, session: Session) -> dict[int, list[Alarm]]:
    """Per machine, its alarms that have not cleared, oldest first."""
    out: dict[int, list[Alarm]] = {}
    stmt = select(Alarm).where(Alarm.cleared_at.is_(None)).order_by(Alarm.raised_at, Alarm.id)
    for alarm in session.scalars(stmt):
        out.setdefault(alarm.machine_id, []).append(alarm)
    return out


def open_downtime(*, session: Session) -> dict[int, Downtime]:
    """Per machine, the downtime period still open (the machine is down now), if any."""
    stmt = select(Downtime).where(Downtime.ended_at.is_(None)).order_by(Downtime.started_at)
    return {d.machine_id: d for d in session.scalars(stmt)}


def machines_with_data(*, session: Session) -> set[int]:
    """Machines that have sent at least one reading (one index probe per sensor)."""
    sent = select(Reading.sensor_id).where(Reading.sensor_id == Sensor.id).exists()
    return set(session.scalars(select(Sensor.machine_id).where(sent).distinct()))


def latest_values(*, session: Session, kind: str) -> dict[int, float]:
    """Per machine, the newest reading of its ``kind`` sensor (one index probe each)."""
    newest = (
        select(Reading.value)
        .where(Reading.sensor_id == Sensor.id)
        .order_by(Reading.ts.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(select(Sensor.machine_id, newest).where(Sensor.kind == kind))
    return {machine_id: value for machine_id, value in rows if value is not None}


def open_ticket_count(*, session: Session) -> int:
    stmt = select(func.count(Ticket.id)).where(Ticket.status != TicketStatus.RESOLVED)
    return int(session.scalar(stmt) or 0)


def machine_names(*, session: Session) -> dict[int, str]:
    return dict(session.execute(select(Machine.id, Machine.name)).all())


def machine_sensor_ids(*, session: Session, name: str) -> tuple[int, dict[str, int]] | None:
    """The machine's id and its sensors' ids by key, if it exists."""
    machine_id = session.scalar(select(Machine.id).where(Machine.name == name))
    if machine_id is None:
        return None
    rows = session.execute(select(Sensor.key, Sensor.id).where(Sensor.machine_id == machine_id))
    return machine_id, {key: sid for key, sid in rows}


def backdate_machines(*, session: Session, names: Iterable[str], created_at: datetime) -> None:
    """Machines added after ``created_at`` count as in service since then (history written
    for them later: reports count hours in service)."""
    session.execute(
        update(Machine)
        .where(Machine.name.in_(list(names)), Machine.created_at > created_at)
        .values(created_at=created_at)
    )


def active_technician_ids(*, session: Session) -> tuple[int, ...]:
    """The active technicians' user ids, in id order."""
    stmt = select(User.id).where(User.role == Role.TECHNICIAN, User.active).order_by(User.id)
    return tuple(session.scalars(stmt))


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
