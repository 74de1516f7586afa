"""Machine administration: create and edit machines and their sensors, retire and
reactivate them. Every change is written to the audit log with its before and after.

Sensors are never deleted: their readings, alarms and the ingest worker's directory of
sensor ids all point at them. A wrong key is fixed by editing it; a machine taken out of
service is retired (its history stays, ingest refuses its readings from then on).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, Machine, Sensor, utcnow
from maintenance.fleet_admin.machine_changes import Change, diff_machine, sensor_values
from maintenance.fleet_admin.machine_specs import (
    FieldError,
    MachineError,
    MachineInput,
    SensorInput,
    parse_machine,
    sensor_id_of,
)

__all__ = [
    "Change",
    "IntegrationHint",
    "MachineDetail",
    "MachineRow",
    "SaveResult",
    "apply_changes",
    "check_machine",
    "create_machine",
    "diff_machine",
    "integration_hint",
    "machine_detail",
    "machine_rows",
    "reactivate_machine",
    "retire_machine",
    "sensor_values",
    "update_machine",
]


@dataclass(frozen=True, slots=True)
class MachineRow:
    id: int
    name: str
    type: str
    location: str
    line: str
    sensors: int
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class MachineDetail:
    id: int
    machine: MachineInput  # its sensors carry their ids
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class SaveResult:
    machine_id: int
    name: str
    changes: list[Change]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            if c.action != "unchanged":
                out[f"{c.entity}.{c.action}"] = out.get(f"{c.entity}.{c.action}", 0) + 1
        return out


@dataclass(frozen=True, slots=True)
class IntegrationHint:
    topic: str
    payload: str  # pretty JSON of one batched message


def machine_rows(*, session: Session) -> list[MachineRow]:
    """Every machine, in service and retired, with its number of sensors, by name."""
    count = select(func.count(Sensor.id)).where(Sensor.machine_id == Machine.id).scalar_subquery()
    stmt = select(Machine, count).order_by(Machine.name)
    return [
        MachineRow(m.id, m.name, m.type, m.location, m.line, n, m.retired_at)
        for m, n in session.execute(stmt)
    ]


def machine_detail(*, session: Session, machine_id: int) -> MachineDetail | None:
    machine = session.get(Machine, machine_id)
    if machine is None:
        return None
    sensors = tuple(
        SensorInput(
            s.key, s.kind, s.unit, s.warn_low, s.warn_high, s.crit_low, s.crit_high, id=s.id
        )
        for s in machine.sensors
    )
    spec = MachineInput(machine.name, machine.type, machine.location, machine.line, sensors)
    return MachineDetail(machine.id, spec, machine.retired_at)


def create_machine(*, session: Session, raw: Mapping[str, Any], user_id: int | None) -> SaveResult:
    """Store a new machine and its sensors (audited); raises ``MachineError``."""
    spec = _checked(session, raw, machine=None)
    return apply_changes(session=session, spec=spec, machine=None, user_id=user_id)


def update_machine(
    *, session: Session, machine_id: int, raw: Mapping[str, Any], user_id: int | None
) -> SaveResult:
    """Change a machine and its sensors, add new sensors (audited); raises ``MachineError``."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        raise MachineError([FieldError("name", "This machine no longer exists.")])
    spec = _checked(session, _with_every_sensor(raw, machine), machine=machine)
    return apply_changes(session=session, spec=spec, machine=machine, user_id=user_id)


def retire_machine(*, session: Session, machine_id: int, user_id: int | None) -> bool:
    """Take a machine out of service: its history stays, it leaves the fleet and ingest."""
    machine = session.get(Machine, machine_id)
    if machine is None or machine.retired_at is not None:
        return False
    machine.retired_at = utcnow()
    after = {"name": machine.name, "retired_at": machine.retired_at.isoformat()}
    _audit(session, user_id, "machine.retire", "machine", machine.id, {"retired_at": None}, after)
    return True


def reactivate_machine(*, session: Session, machine_id: int, user_id: int | None) -> bool:
    """Bring a retired machine back into service."""
    machine = session.get(Machine, machine_id)
    if machine is None or machine.retired_at is None:
        return False
    before = {"name": machine.name, "retired_at": machine.retired_at.isoformat()}
    machine.retired_at = None
    after = {"retired_at": None}
    _audit(session, user_id, "machine.reactivate", "machine", machine.id, before, after)
    return True


def apply_changes(
    *, session: Session, spec: MachineInput, machine: Machine | None, user_id: int | None
) -> SaveResult:
    """Write a checked ``spec`` and audit each change; returns what was done."""
    changes = diff_machine(machine, spec)
    if machine is None:
        machine = Machine(**spec.values())
        session.add(machine)
    elif changes[0].action == "update":
        for field, value in (changes[0].after or {}).items():
            setattr(machine, field, value)
    session.flush()
    for change in changes:
        if change.action == "unchanged":
            continue
        if change.entity == "machine":
            action = f"machine.{change.action}"
            _audit(session, user_id, action, "machine", machine.id, change.before, change.after)
            continue
        sensor = _write_sensor(session, machine, change)
        after = {"machine": machine.name, **(change.after or {})}
        action = f"sensor.{change.action}"
        _audit(session, user_id, action, "sensor", sensor.id, change.before, after)
    return SaveResult(machine.id, machine.name, changes)


def integration_hint(*, prefix: str, name: str, keys: list[str], now: datetime) -> IntegrationHint:
    """The topic a machine publishes to and an example message with one reading per sensor."""
    ts = int(now.timestamp())  # epoch seconds: the shortest form a gateway may send
    readings = [{"sensor": k, "ts": ts, "value": 0.0} for k in keys if k] or [
        {"sensor": "<sensor key>", "ts": ts, "value": 0.0}
    ]
    body = '{"readings": [\n' + ",\n".join(f"  {json.dumps(r)}" for r in readings) + "\n]}"
    return IntegrationHint(f"{prefix}/{name or '<machine name>'}/telemetry", body)


def check_machine(
    *, session: Session, raw: Mapping[str, Any], machine: Machine | None
) -> tuple[MachineInput, list[FieldError]]:
    """``raw`` cleaned, and everything wrong with storing it over ``machine`` (None: new)."""
    spec, errors = parse_machine(raw)
    return spec, errors + _name_taken(session, spec.name, machine) + _foreign_sensors(spec, machine)


def _checked(session: Session, raw: Mapping[str, Any], machine: Machine | None) -> MachineInput:
    spec, errors = check_machine(session=session, raw=raw, machine=machine)
    if errors:
        raise MachineError(errors)
    return spec


def _name_taken(session: Session, name: str, machine: Machine | None) -> list[FieldError]:
    """Names are unique regardless of case (pump-01 and Pump-01 would be two topics that
    look the same to people)."""
    stmt = select(Machine.name).where(func.lower(Machine.name) == name.lower())
    if machine is not None:
        stmt = stmt.where(Machine.id != machine.id)
    taken = session.scalar(stmt.limit(1))
    return [FieldError("name", f"A machine named “{taken}” already exists.")] if taken else []


def _foreign_sensors(spec: MachineInput, machine: Machine | None) -> list[FieldError]:
    """Sensor ids come back from the browser: each must be one of this machine's, once."""
    own = {s.id for s in machine.sensors} if machine is not None else set()
    seen: set[int] = set()
    errors = []
    for i, s in enumerate(spec.sensors):
        if s.id is not None and (s.id not in own or s.id in seen):
            errors.append(FieldError("key", "Not a sensor of this machine; reload the page.", i))
        if s.id is not None:
            seen.add(s.id)
    return errors


def _with_every_sensor(raw: Mapping[str, Any], machine: Machine) -> dict[str, Any]:
    """Sensors are never removed: the ones the input leaves out are kept as they are (so
    key clashes with them are still caught)."""
    given = list(raw.get("sensors") or [])
    listed = {sensor_id_of(s) for s in given}
    kept = [{"id": s.id, **sensor_values(s)} for s in machine.sensors if s.id not in listed]
    return {**raw, "sensors": given + kept}


def _write_sensor(session: Session, machine: Machine, change: Change) -> Sensor:
    if change.action == "create":
        sensor = Sensor(machine_id=machine.id, **(change.after or {}))
        session.add(sensor)
    else:
        sensor = session.get_one(Sensor, change.sensor_id)
        for field, value in (change.after or {}).items():
            setattr(sensor, field, value)
    session.flush()
    return sensor


def _audit(
    session: Session,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: int,
    before: dict | None,
    after: dict | None,
) -> None:
    session.add(
        AuditLog(
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
