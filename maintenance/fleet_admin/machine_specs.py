"""What a machine and its sensors must look like before they are stored: pure checks.

The form and the CSV import both hand in plain values (strings, numbers, ``None``);
``parse_machine`` turns them into a ``MachineInput`` and every problem into a
``FieldError`` that names the field (and the sensor) it belongs to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LIMITS",
    "MAX_SENSORS",
    "FieldError",
    "MachineError",
    "MachineInput",
    "SensorInput",
    "parse_machine",
    "sensor_id_of",
]

# the machine name is the middle of the MQTT topic and the sensor key is what payloads
# carry: both stay inside what ingest/payload.py accepts (no '/', '+', '#', spaces)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LIMITS = ("crit_low", "warn_low", "warn_high", "crit_high")  # in the order they must keep
_LABEL = {
    "crit_low": "critical low",
    "warn_low": "warning low",
    "warn_high": "warning high",
    "crit_high": "critical high",
}
MAX_SENSORS = 50
_MAX_ABS = 1e9


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem: ``field`` is a machine field, ``sensors``, or a sensor field (then
    ``sensor`` is the sensor's position in the input)."""

    field: str
    message: str
    sensor: int | None = None


class MachineError(ValueError):
    """Refused input; ``errors`` say which field is wrong and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class SensorInput:
    key: str
    kind: str
    unit: str
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None
    id: int | None = None  # an existing sensor being edited

    def values(self) -> dict[str, Any]:
        """What is stored and audited (the id is not a value)."""
        return {
            "key": self.key,
            "kind": self.kind,
            "unit": self.unit,
            **{name: getattr(self, name) for name in LIMITS},
        }


@dataclass(frozen=True, slots=True)
class MachineInput:
    name: str
    type: str
    location: str
    line: str
    sensors: tuple[SensorInput, ...]

    def values(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "location": self.location, "line": self.line}


def parse_machine(raw: Mapping[str, Any]) -> tuple[MachineInput, list[FieldError]]:
    """Clean ``raw`` (name, type, location, line, sensors: list of mappings) into an input
    and the list of what is wrong with it (empty when it may be stored)."""
    errors: list[FieldError] = []
    name = _text(raw.get("name"), "name", 64, errors, required="Give the machine a name.")
    if name and not _NAME.match(name):
        errors.append(
            FieldError(
                "name",
                "Letters, digits and _ . - only, starting with a letter or digit, at most 64 "
                "(the name is part of the MQTT topic).",
            )
        )
    kind = _text(raw.get("type"), "type", 32, errors, required="Give the type (e.g. pump).")
    location = _text(raw.get("location"), "location", 64, errors)
    line = _text(raw.get("line"), "line", 64, errors)
    sensors = tuple(_sensor(i, s, errors) for i, s in enumerate(raw.get("sensors") or []))
    if not sensors:
        errors.append(FieldError("sensors", "Add at least one sensor."))
    elif len(sensors) > MAX_SENSORS:
        errors.append(FieldError("sensors", f"At most {MAX_SENSORS} sensors per machine."))
    _unique_keys(sensors, errors)
    return MachineInput(name, kind, location, line, sensors), _first_per_field(errors)


def _sensor(index: int, raw: Mapping[str, Any], errors: list[FieldError]) -> SensorInput:
    mark = len(errors)
    key = _text(raw.get("key"), "key", 32, errors, required="The key its payloads carry.")
    if key and not _KEY.match(key):
        errors.append(
            FieldError("key", "Start with a letter; letters, digits and _ . - only, at most 32.")
        )
    kind = _text(raw.get("kind"), "kind", 32, errors, required="What it measures.")
    if kind and not _KIND.match(kind):
        errors.append(FieldError("kind", "Lowercase letters, digits and _, e.g. temperature."))
    unit = _text(raw.get("unit"), "unit", 16, errors)
    limits = {name: _number(raw.get(name), name, errors) for name in LIMITS}
    _ordered(limits, errors)
    sensor_id = sensor_id_of(raw)
    if sensor_id == -1:
        errors.append(FieldError("key", "Not a sensor of this machine; reload the page."))
    for i in range(mark, len(errors)):  # the messages so far belong to this sensor
        errors[i] = FieldError(errors[i].field, errors[i].message, index)
    return SensorInput(key, kind, unit, **limits, id=sensor_id if sensor_id != -1 else None)


def sensor_id_of(raw: Mapping[str, Any]) -> int | None:
    """The id of the existing sensor ``raw`` edits: None for a new one, -1 when garbled."""
    value = raw.get("id")
    if value in (None, ""):
        return None
    try:
        return int(value) if int(value) > 0 else -1
    except (TypeError, ValueError):
        return -1


def _text(value: Any, field: str, most: int, errors: list[FieldError], required: str = "") -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.append(FieldError(field, required))
    elif len(text) > most:
        errors.append(FieldError(field, f"At most {most} characters."))
    elif any(ord(c) < 32 or ord(c) == 127 for c in text):
        errors.append(FieldError(field, "No control characters (tabs, line breaks)."))
    return text


def _number(value: Any, field: str, errors: list[FieldError]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        errors.append(FieldError(field, "Not a number (leave empty for no limit)."))
        return None
    if isinstance(value, bool) or not math.isfinite(number) or abs(number) > _MAX_ABS:
        errors.append(FieldError(field, "A finite number between -1e9 and 1e9."))
        return None
    return number


def _ordered(limits: dict[str, float | None], errors: list[FieldError]) -> None:
    """crit_low <= warn_low < warn_high <= crit_high, for the limits that are given: a
    low limit must sit strictly below a high one."""
    given = [(i, name) for i, name in enumerate(LIMITS) if limits[name] is not None]
    for j, later in given:
        for i, earlier in given:
            if i >= j:
                break
            low, high = limits[earlier], limits[later]
            strict = i <= 1 < j
            if high < low or (strict and high == low):  # type: ignore[operator]
                relation = ">" if strict else "≥"
                message = f"Must be {relation} {_LABEL[earlier]} ({low:g})."
                errors.append(FieldError(later, message))
                break


def _unique_keys(sensors: tuple[SensorInput, ...], errors: list[FieldError]) -> None:
    """Keys differing only in case would confuse people reading payloads: one of each.
    Stored sensors keep their key; the new or edited one is told to change."""
    seen: set[str] = set()
    stored_first = sorted(range(len(sensors)), key=lambda i: sensors[i].id is None)
    for index in stored_first:
        folded = sensors[index].key.lower()
        if folded in seen:
            message = "Another sensor of this machine already uses this key."
            errors.append(FieldError("key", message, index))
        elif folded:
            seen.add(folded)


def _first_per_field(errors: list[FieldError]) -> list[FieldError]:
    """One message per field: the first is the one to fix first."""
    kept: dict[tuple[str, int | None], FieldError] = {}
    for error in errors:
        kept.setdefault((error.field, error.sensor), error)
    return list(kept.values())
