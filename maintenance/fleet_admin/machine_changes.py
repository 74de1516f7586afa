"""What saving a machine would change: a diff of its stored state and a checked input,
shared by the form (which then writes it) and the CSV dry run (which only shows it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from data.models import Machine, Sensor
from maintenance.fleet_admin.machine_specs import MachineInput

__all__ = ["Change", "diff_machine", "machine_values", "sensor_values"]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a save would do: ``action`` is create, update or unchanged."""

    action: str
    entity: str  # machine | sensor
    machine: str
    key: str = ""  # the sensor's key, for sensors
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    sensor_id: int | None = None

    def summary(self) -> str:
        """What changes, for people: ``warn_high: 70 → 75``."""
        if self.action == "create":
            return ", ".join(
                f"{k}={_show(v)}" for k, v in (self.after or {}).items() if v not in ("", None)
            )
        before, after = self.before or {}, self.after or {}
        return ", ".join(f"{k}: {_show(before.get(k))} → {_show(after[k])}" for k in after)


def diff_machine(machine: Machine | None, spec: MachineInput) -> list[Change]:
    """What storing ``spec`` over ``machine`` (None: a new one) would change; no writes."""
    if machine is None:
        return [Change("create", "machine", spec.name, after=spec.values())] + [
            Change("create", "sensor", spec.name, s.key, after=s.values()) for s in spec.sensors
        ]
    changes = [_diff("machine", spec.name, "", machine_values(machine), spec.values(), None)]
    current = {s.id: s for s in machine.sensors}
    for s in spec.sensors:
        old = current.get(s.id) if s.id is not None else None
        if old is None:
            changes.append(Change("create", "sensor", spec.name, s.key, after=s.values()))
        else:
            changes.append(
                _diff("sensor", spec.name, s.key, sensor_values(old), s.values(), old.id)
            )
    return changes


def _diff(
    entity: str, machine: str, key: str, old: dict, new: dict, sensor_id: int | None
) -> Change:
    changed = [k for k in new if not _same(new[k], old.get(k))]
    if not changed:
        return Change("unchanged", entity, machine, key, sensor_id=sensor_id)
    return Change(
        "update",
        entity,
        machine,
        key,
        before={k: old.get(k) for k in changed},
        after={k: new[k] for k in changed},
        sensor_id=sensor_id,
    )


def machine_values(m: Machine) -> dict[str, Any]:
    return {"name": m.name, "type": m.type, "location": m.location, "line": m.line}


def sensor_values(s: Sensor) -> dict[str, Any]:
    return {
        "key": s.key,
        "kind": s.kind,
        "unit": s.unit,
        "crit_low": s.crit_low,
        "warn_low": s.warn_low,
        "warn_high": s.warn_high,
        "crit_high": s.crit_high,
    }


def _same(a: Any, b: Any) -> bool:
    """Equal, counting floats equal to ten digits: a form shows 1980.0000000000002 as 1980,
    and saving it unchanged is no change."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-12)
    return a == b


def _show(value: Any) -> str:
    return "–" if value in (None, "") else f"{value:g}" if isinstance(value, float) else str(value)
