"""A fleet from a CSV file: one row per sensor, checked in a dry run, then imported whole.

Columns: machine,type,location,line,sensor_key,kind,unit,warn_low,warn_high,crit_low,crit_high.
A machine that exists is updated (its type, location and line, and the sensors the file
names; sensors it does not name are kept); a new one is created. The import is all or
nothing: one bad row and nothing is stored, so a fleet is never half imported. Row numbers
are a spreadsheet's: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AuditLog, Machine, Sensor
from maintenance.fleet_admin.machine_admin import (
    Change,
    apply_changes,
    check_machine,
    diff_machine,
    sensor_values,
)
from maintenance.fleet_admin.machine_specs import MachineInput

__all__ = [
    "COLUMNS",
    "EXAMPLE_CSV",
    "MAX_BYTES",
    "ImportPlan",
    "ImportRefused",
    "RowError",
    "apply_import",
    "plan_import",
]

COLUMNS = (
    "machine",
    "type",
    "location",
    "line",
    "sensor_key",
    "kind",
    "unit",
    "warn_low",
    "warn_high",
    "crit_low",
    "crit_high",
)
MAX_BYTES = 1_000_000
MAX_ROWS = 10_000
_MACHINE_FIELDS = ("type", "location", "line")
_COLUMN_OF = {"name": "machine", "key": "sensor_key", "sensors": "sensor_key"}
EXAMPLE_CSV = (
    ",".join(COLUMNS) + "\n"
    "press-01,press,Hall 2,Line 3,temperature,temperature,°C,,70,,85\n"
    "press-01,press,Hall 2,Line 3,vibration,vibration,mm/s,,4.5,,7.1\n"
    "press-01,press,Hall 2,Line 3,rpm,rpm,rpm,1350,1650,1200,1800\n"
    "pump-07,pump,Hall 1,Line 1,pressure,pressure,bar,2,8,1,10\n"
)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # spreadsheet row: the header is 1
    column: str
    message: str


@dataclass(slots=True)
class ImportPlan:
    """What an import would do (``changes``) or why it may not (``errors``)."""

    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    _work: list[tuple[Machine | None, MachineInput]] = field(default_factory=list, repr=False)

    @property
    def importable(self) -> bool:
        return not self.errors and any(c.action != "unchanged" for c in self.changes)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[f"{c.entity}.{c.action}"] = out.get(f"{c.entity}.{c.action}", 0) + 1
        return out


class ImportRefused(ValueError):
    """The file has errors (or nothing to do): nothing was stored."""


def plan_import(*, session: Session, data: bytes) -> ImportPlan:
    """The dry run: parse and check every row against the database; writes nothing."""
    rows, errors = _read(data)
    plan = ImportPlan(errors=errors, rows=len(rows))
    if errors:
        return plan
    machines = {m.name: m for m in session.scalars(select(Machine))}
    folded: dict[str, int] = {}
    for name, group in _groups(rows, plan.errors).items():
        first = group[0][0]
        if name.lower() in folded:
            message = f"Row {folded[name.lower()]} names the same machine spelt differently."
            plan.errors.append(RowError(first, "machine", message))
            continue
        folded[name.lower()] = first
        _plan_machine(session, plan, machines.get(name), name, group)
    plan.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 0))
    return plan


def apply_import(
    *, session: Session, data: bytes, user_id: int | None, filename: str = ""
) -> ImportPlan:
    """Check the file again and store it whole (audited); raises ``ImportRefused``."""
    plan = plan_import(session=session, data=data)
    if plan.errors:
        raise ImportRefused(f"{len(plan.errors)} rows have errors; nothing was imported.")
    if not plan.importable:
        raise ImportRefused("Everything in the file is already stored; nothing to import.")
    for machine, spec in plan._work:
        apply_changes(session=session, spec=spec, machine=machine, user_id=user_id)
    session.add(
        AuditLog(
            user_id=user_id,
            action="fleet.import",
            entity="fleet",
            entity_id=(filename or "upload.csv")[:64],
            after={"rows": plan.rows, **plan.counts()},
        )
    )
    return plan


def _read(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows as (spreadsheet row, {column: text}); or the reason the file is unreadable."""
    if len(data) > MAX_BYTES:
        return [], [RowError(0, "", f"The file has {len(data):,} bytes; at most {MAX_BYTES:,}.")]
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        return [], [RowError(0, "", "The file is not UTF-8 text; save it as “CSV UTF-8”.")]
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Excel in many locales
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not records or not any(cell.strip() for cell in records[0]):
        return [], [RowError(1, "", "The file is empty; the first row names the columns.")]
    header = [h.strip().lower() for h in records[0]]
    errors = _header_errors(header)
    if len(records) - 1 > MAX_ROWS:
        errors.append(RowError(0, "", f"At most {MAX_ROWS:,} rows per file."))
    if errors:
        return [], errors
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if len(record) != len(header):
            errors.append(RowError(number, "", f"{len(record)} values; expected {len(header)}."))
            continue
        rows.append((number, {h: v.strip() for h, v in zip(header, record, strict=True)}))
    if not rows and not errors:
        errors.append(RowError(2, "", "No rows below the header."))
    return rows, errors


def _header_errors(header: list[str]) -> list[RowError]:
    errors = [RowError(1, c, "Missing column.") for c in COLUMNS if c not in header]
    errors += [
        RowError(1, h, f"Unknown column; the columns are {', '.join(COLUMNS)}.")
        for h in header
        if h not in COLUMNS
    ]
    errors += [RowError(1, h, "Column given twice.") for h in set(header) if header.count(h) > 1]
    return errors


def _groups(
    rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """Rows by machine name (in file order), machine fields consistent within a machine."""
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in rows:
        if not row["machine"]:
            errors.append(RowError(number, "machine", "Give the machine's name."))
            continue
        group = groups.setdefault(row["machine"], [])
        if group:
            first, values = group[0]
            for column in _MACHINE_FIELDS:
                if row[column] != values[column]:
                    message = f"Differs from row {first} of this machine (“{values[column]}”)."
                    errors.append(RowError(number, column, message))
        group.append((number, row))
    return groups


def _plan_machine(
    session: Session,
    plan: ImportPlan,
    machine: Machine | None,
    name: str,
    group: list[tuple[int, dict[str, str]]],
) -> None:
    first, values = group[0]
    if machine is not None and machine.retired_at is not None:
        message = "This machine is retired: reactivate it on this page before importing it."
        plan.errors.append(RowError(first, "machine", message))
        return
    existing = {s.key: s for s in machine.sensors} if machine is not None else {}
    sensors: list[dict[str, Any]] = []
    numbers: list[int] = []
    seen: dict[str, int] = {}
    for number, row in group:
        if row["sensor_key"] in seen:
            message = f"Row {seen[row['sensor_key']]} already defines this sensor."
            plan.errors.append(RowError(number, "sensor_key", message))
            continue
        seen[row["sensor_key"]] = number
        sensors.append(_sensor_raw(row, existing.get(row["sensor_key"])))
        numbers.append(number)
    named = {s["key"] for s in sensors}
    sensors += [{"id": s.id, **sensor_values(s)} for k, s in existing.items() if k not in named]
    raw = {"name": name, **{c: values[c] for c in _MACHINE_FIELDS}, "sensors": sensors}
    spec, errors = check_machine(session=session, raw=raw, machine=machine)
    for e in errors:
        at = numbers[e.sensor] if e.sensor is not None and e.sensor < len(numbers) else first
        plan.errors.append(RowError(at, _COLUMN_OF.get(e.field, e.field), e.message))
    if not errors:
        plan.changes += diff_machine(machine, spec)
        plan._work.append((machine, spec))


def _sensor_raw(row: dict[str, str], existing: Sensor | None) -> dict[str, Any]:
    raw: dict[str, Any] = {c: row[c] for c in COLUMNS[5:]}
    return {"key": row["sensor_key"], "id": existing.id if existing else None, **raw}
