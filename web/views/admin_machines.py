"""Builders for the machine administration page: the form, its sensor rows, the grid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.fleet_admin.machine_admin import MachineDetail, MachineRow, SaveResult
from maintenance.fleet_admin.machine_specs import FieldError, SensorInput

__all__ = [
    "KINDS",
    "MACHINE_FIELDS",
    "SENSOR_FIELDS",
    "form_outputs",
    "grid_rows",
    "machine_raw",
    "note",
    "refused_outputs",
    "save_outputs",
    "saved_message",
    "sensor_header",
    "sensor_row",
]

# ids of this page's components
ADMIN_MACHINES_GRID = "admin-machines-grid"
ADMIN_MACHINES_REFRESH = "admin-machines-refresh"  # store: bump to reload the grid
ADMIN_MACHINES_NOTE = "admin-machines-note"  # read-only note for managers
ADMIN_MACHINE_NEW = "admin-machine-new"
ADMIN_MACHINE_SHOW = "admin-machine-show"  # store: {"id": machine id or None, "n": nonce}
ADMIN_MACHINE_ID = "admin-machine-id"  # store: the machine in the form (None: a new one)
ADMIN_MACHINE_TITLE = "admin-machine-title"
ADMIN_MACHINE_NAME = "admin-machine-name"
ADMIN_MACHINE_TYPE = "admin-machine-type"
ADMIN_MACHINE_LOCATION = "admin-machine-location"
ADMIN_MACHINE_LINE = "admin-machine-line"
ADMIN_MACHINE_SAVE = "admin-machine-save"
ADMIN_MACHINE_RETIRE = "admin-machine-retire"
ADMIN_MACHINE_REACTIVATE = "admin-machine-reactivate"
ADMIN_MACHINE_FEEDBACK = "admin-machine-feedback"
ADMIN_MACHINE_TOPIC = "admin-machine-topic"
ADMIN_MACHINE_PAYLOAD = "admin-machine-payload"
ADMIN_SENSOR_ROWS = "admin-sensor-rows"
ADMIN_SENSOR_ADD = "admin-sensor-add"
ADMIN_SENSORS_ERROR = "admin-sensors-error"
ADMIN_SENSOR_FIELD = "admin-sensor-field"
ADMIN_SENSOR_ERROR = "admin-sensor-error"
ADMIN_SENSOR_ID = "admin-sensor-id"
ADMIN_SENSOR_REMOVE = "admin-sensor-remove"


def admin_machine_error(field: str) -> str:
    return f"admin-machine-{field}-error"


def admin_sensor_field(row: int, field: str) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_FIELD, "row": row, "field": field}


def admin_sensor_error(row: int, field: str) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_ERROR, "row": row, "field": field}


def admin_sensor_id(row: int) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_ID, "row": row}


def admin_sensor_remove(row: int) -> dict[str, object]:
    return {"type": ADMIN_SENSOR_REMOVE, "row": row}


MACHINE_FIELDS = ("name", "type", "location", "line")
# left to right in the order the limits must keep
SENSOR_FIELDS = ("key", "kind", "unit", "crit_low", "warn_low", "warn_high", "crit_high")
_LABELS = {
    "key": "Key (in payloads)",
    "kind": "Kind",
    "unit": "Unit",
    "crit_low": "Critical low",
    "warn_low": "Warning low",
    "warn_high": "Warning high",
    "crit_high": "Critical high",
}
_WIDTH = {"key": 2, "kind": 2, "unit": 2}  # limits 1 each, 2 for the last column
_PLACEHOLDER = {"key": "temperature", "kind": "temperature", "unit": "°C"}
KINDS = ("temperature", "vibration", "rpm", "pressure", "current", "flow", "humidity", "level")
_KINDS_LIST = "admin-sensor-kinds"


def sensor_header() -> dbc.Row:
    """Column labels above the sensor rows, and the kinds offered while typing one."""
    cells = [
        dbc.Col(html.Small(_LABELS[f], className="text-muted"), md=_WIDTH.get(f, 1))
        for f in SENSOR_FIELDS
    ]
    kinds = html.Datalist([html.Option(value=k) for k in KINDS], id=_KINDS_LIST)
    return dbc.Row([*cells, dbc.Col(kinds, md=2)], className="g-1 mb-1 d-none d-md-flex")


def sensor_row(row: int, sensor: SensorInput | None) -> html.Div:
    """One sensor's inputs with a message slot under each; unsaved rows may be removed."""
    cells = [_sensor_cell(row, f, getattr(sensor, f) if sensor else None) for f in SENSOR_FIELDS]
    saved = sensor is not None and sensor.id is not None
    remove = (
        html.Small("saved", className="text-muted", title="Sensors keep their history")
        if saved
        else dbc.Button("Remove", id=admin_sensor_remove(row), size="sm", color="link")
    )
    return html.Div(
        [
            dcc.Store(id=admin_sensor_id(row), data=sensor.id if sensor else None),
            dbc.Row([*cells, dbc.Col(remove, md=2, className="pt-1")], className="g-1"),
        ],
        className="sensor-row mb-1",
        id=f"sensor-row-{row}",
    )


def _sensor_cell(row: int, field: str, value: Any) -> dbc.Col:
    numeric = field not in _WIDTH
    if numeric and isinstance(value, float):
        value = float(f"{value:.10g}")  # 1980.0000000000002 reads as 1980
    control = dbc.Input(
        id=admin_sensor_field(row, field),
        value=value,
        type="number" if numeric else "text",
        step="any" if numeric else None,
        size="sm",
        placeholder=_PLACEHOLDER.get(field, "none"),
        list=_KINDS_LIST if field == "kind" else None,
    )
    feedback = dbc.FormFeedback(id=admin_sensor_error(row, field), type="invalid")
    return dbc.Col([control, feedback], md=_WIDTH.get(field, 1))


def form_outputs(detail: MachineDetail | None) -> tuple:
    """The form filled with a stored machine (None: empty, for a new one): field values,
    sensor rows, the machine id, title, retire/reactivate buttons, cleared messages."""
    spec = detail.machine if detail else None
    values = [getattr(spec, f) if spec else "" for f in MACHINE_FIELDS]
    sensors = list(spec.sensors) if spec else [None]
    rows = [sensor_row(i, s) for i, s in enumerate(sensors)]
    hidden, shown = {"display": "none"}, {}
    if detail is None:
        title, retire, reactivate = "New machine", hidden, hidden
    elif detail.retired_at is None:
        title, retire, reactivate = f"Edit {spec.name}", shown, hidden
    else:
        title = f"Edit {spec.name} (retired {detail.retired_at:%Y-%m-%d})"
        retire, reactivate = hidden, shown
    cleared = [""] * len(MACHINE_FIELDS) + [False] * len(MACHINE_FIELDS)
    return (*values, rows, detail.id if detail else None, title, retire, reactivate, *cleared, "")


def machine_raw(
    values: Sequence[Any], sensor_ids: Sequence[Any], columns: Sequence[Sequence[Any]]
) -> dict[str, Any]:
    """The form's values as the plain mapping the domain checks (``columns``: one list per
    sensor field, in ``SENSOR_FIELDS`` order, one value per row)."""
    sensors = [
        {"id": sid, **{f: col[i] for f, col in zip(SENSOR_FIELDS, columns, strict=True)}}
        for i, sid in enumerate(sensor_ids)
    ]
    return {**dict(zip(MACHINE_FIELDS, values, strict=True)), "sensors": sensors}


def save_outputs(
    feedback: Any, refresh: Any, show: Any, errors: list[FieldError], rows: int
) -> tuple:
    """The save callback's outputs: feedback, stores, then each message next to its field."""
    machine = {e.field: e.message for e in errors if e.sensor is None}
    per_field = {f: [""] * rows for f in SENSOR_FIELDS}
    for e in errors:
        if e.sensor is not None and e.field in per_field and e.sensor < rows:
            per_field[e.field][e.sensor] = e.message
    return (
        feedback,
        refresh,
        show,
        *[machine.get(f, "") for f in MACHINE_FIELDS],
        *[bool(machine.get(f)) for f in MACHINE_FIELDS],
        machine.get("sensors", ""),
        *per_field.values(),
        *[[bool(m) for m in messages] for messages in per_field.values()],
    )


def refused_outputs(message: str, rows: int) -> tuple:
    """Only a message: nothing in the form changes."""
    unchanged = [dash.no_update] * rows
    return (
        note(message, "warning"),
        dash.no_update,
        dash.no_update,
        *[dash.no_update] * (2 * len(MACHINE_FIELDS) + 1),
        *[unchanged] * (2 * len(SENSOR_FIELDS)),
    )


def saved_message(result: SaveResult, created: bool) -> dbc.Alert:
    counts = result.counts()
    if not counts:
        return note(f"Nothing changed on {result.name}.", "info")
    sensors = counts.get("sensor.create", 0)
    updated = counts.get("sensor.update", 0)
    if created:
        text = f"Created {result.name} with {sensors} sensor{'s' * (sensors != 1)}."
    else:
        parts = ["details changed"] if "machine.update" in counts else []
        parts += [f"{sensors} sensor{'s' * (sensors != 1)} added"] if sensors else []
        parts += [f"{updated} sensor{'s' * (updated != 1)} changed"] if updated else []
        text = f"Saved {result.name}: {', '.join(parts)}."
    return note(text, "success")


def note(text: str, color: str, note_id: str = "machines-note") -> dbc.Alert:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2 mb-0", id=note_id)


def grid_rows(rows: list[MachineRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(r.id),  # AG Grid row ids are strings
            "name": r.name,
            "type": r.type,
            "location": r.location,
            "line": r.line,
            "sensors": r.sensors,
            "status": f"retired {r.retired_at:%Y-%m-%d}" if r.retired_at else "in service",
        }
        for r in rows
    ]
