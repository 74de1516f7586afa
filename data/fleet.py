"""Machines and sensors: seeding a fleet and resolving payload names to sensor ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Machine, Sensor

__all__ = ["SensorSpec", "MachineSpec", "ensure_fleet", "sensor_directory"]


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
