"""Machine administration on SQLite and PostgreSQL: create, validate, edit, retire,
reactivate, the CSV dry run and import, and a running ingest writer that picks up a new
machine without a restart."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from factories import add_user, count
from sqlalchemy import select

from data.db import Database
from data.fleet_queries import sensor_directory
from data.models import AuditLog, Machine, Reading, Role, Sensor
from data.readings import insert_readings
from ingest.payload import PayloadLimits
from ingest.writer import BatchWriter, InboundMessage
from maintenance.fleet_admin.fleet_csv import EXAMPLE_CSV, ImportRefused, apply_import, plan_import
from maintenance.fleet_admin.machine_admin import (
    create_machine,
    integration_hint,
    machine_detail,
    machine_rows,
    reactivate_machine,
    retire_machine,
    update_machine,
)
from maintenance.fleet_admin.machine_specs import MachineError
from maintenance.machine_status.machine_state import machine_cards


def _raw(name: str = "press-07", **changes: object) -> dict:
    raw = {
        "name": name,
        "type": "press",
        "location": "Hall 2",
        "line": "Line 3",
        "sensors": [
            {"key": "temperature", "kind": "temperature", "unit": "°C", "warn_high": 70,
             "crit_high": 85},
            {"key": "vibration", "kind": "vibration", "unit": "mm/s", "warn_high": 4.5,
             "crit_high": 7.1},
        ],
    }  # fmt: skip
    return raw | changes


def _admin(db: Database) -> int:
    return add_user(db, "admin-x", Role.ADMIN)


def _create(db: Database, user: int, **changes: object) -> int:
    with db.session() as s:
        return create_machine(session=s, raw=_raw(**changes), user_id=user).machine_id


def _actions(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def _errors(db: Database, raw: dict, machine_id: int | None = None) -> dict:
    with db.session() as s, pytest.raises(MachineError) as caught:
        if machine_id is None:
            create_machine(session=s, raw=raw, user_id=None)
        else:
            update_machine(session=s, machine_id=machine_id, raw=raw, user_id=None)
    return {(e.field, e.sensor): e.message for e in caught.value.errors}


def test_create_stores_machine_sensors_and_audits_each(db: Database):
    user = _admin(db)
    machine_id = _create(db, user)
    with db.session() as s:
        machine = s.get(Machine, machine_id)
        assert (machine.type, machine.location, machine.line) == ("press", "Hall 2", "Line 3")
        assert [(x.key, x.unit, x.warn_high, x.crit_high) for x in machine.sensors] == [
            ("temperature", "°C", 70.0, 85.0),
            ("vibration", "mm/s", 4.5, 7.1),
        ]
        assert {k for k in sensor_directory(session=s) if k[0] == "press-07"} == {
            ("press-07", "temperature"),
            ("press-07", "vibration"),
        }
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "machine.create"))
        assert entry.user_id == user and entry.after["name"] == "press-07"
        assert entry.entity == "machine" and entry.entity_id == str(machine_id)
    assert _actions(db) == ["machine.create", "sensor.create", "sensor.create"]
    hint = integration_hint(
        prefix="pdm", name="press-07", keys=["temperature"], now=datetime.now(UTC)
    )
    assert hint.topic == "pdm/press-07/telemetry"
    assert json.loads(hint.payload)["readings"][0]["sensor"] == "temperature"


def test_bad_input_names_the_field_and_stores_nothing(db: Database):
    _create(db, _admin(db))
    sensors = _raw()["sensors"]
    cases = [
        (_raw(name=""), ("name", None), "Give the machine a name"),
        (_raw(name="press 07/x"), ("name", None), "Letters, digits"),
        (_raw(name="PRESS-07"), ("name", None), "already exists"),
        (_raw(name="p-1", type=""), ("type", None), "Give the type"),
        (_raw(name="p-1", sensors=[]), ("sensors", None), "at least one sensor"),
        (_raw(name="p-1", sensors=[{**sensors[0], "key": "temp erature"}]), ("key", 0), "letter"),
        (_raw(name="p-1", sensors=[sensors[0], {**sensors[1], "key": "Temperature"}]),
         ("key", 1), "already uses this key"),
        (_raw(name="p-1", sensors=[{**sensors[0], "kind": ""}]), ("kind", 0), "What it measures"),
        (_raw(name="p-1", sensors=[{**sensors[0], "warn_high": "hot"}]), ("warn_high", 0),
         "Not a number"),
        (_raw(name="p-1", sensors=[{**sensors[0], "warn_high": 90}]), ("crit_high", 0),
         "≥ warning high (90)"),
        (_raw(name="p-1", sensors=[{**sensors[0], "warn_low": 70}]), ("warn_high", 0),
         "> warning low (70)"),
        (_raw(name="p-1", sensors=[{**sensors[0], "crit_low": 10, "warn_low": 5}]),
         ("warn_low", 0), "≥ critical low (10)"),
        (_raw(name="p-1", sensors=[{**sensors[0], "crit_low": float("nan")}]), ("crit_low", 0),
         "finite"),
    ]  # fmt: skip
    machines, sensors_before = count(db, Machine), count(db, Sensor)
    for raw, where, text in cases:
        errors = _errors(db, raw)
        assert where in errors and text in errors[where], (where, errors)
    assert (count(db, Machine), count(db, Sensor)) == (machines, sensors_before)
    assert _actions(db).count("machine.create") == 1


def test_edit_limits_audits_before_and_after_and_no_change_audits_nothing(db: Database):
    user = _admin(db)
    machine_id = _create(db, user)
    with db.session() as s:
        detail = machine_detail(session=s, machine_id=machine_id)
    sensors = [{"id": x.id, **x.values()} for x in detail.machine.sensors]
    sensors[0]["warn_high"] = 75
    raw = _raw(sensors=sensors, location="Hall 3")
    with db.session() as s:
        result = update_machine(session=s, machine_id=machine_id, raw=raw, user_id=user)
    assert result.counts() == {"machine.update": 1, "sensor.update": 1}
    with db.session() as s:
        change = s.scalar(select(AuditLog).where(AuditLog.action == "sensor.update"))
        assert change.before == {"warn_high": 70.0}
        assert change.after == {"machine": "press-07", "warn_high": 75.0}
        moved = s.scalar(select(AuditLog).where(AuditLog.action == "machine.update"))
        assert (moved.before, moved.after) == ({"location": "Hall 2"}, {"location": "Hall 3"})
    before = len(_actions(db))
    with db.session() as s:
        again = update_machine(session=s, machine_id=machine_id, raw=raw, user_id=user)
    assert again.counts() == {} and len(_actions(db)) == before
    # a limit that breaks the order is refused; a sensor left out of the form is kept
    bad = _raw(sensors=[{**sensors[0], "crit_high": 60}])
    assert "≥ warning high" in _errors(db, bad, machine_id)[("crit_high", 0)]
    with db.session() as s:
        update_machine(
            session=s,
            machine_id=machine_id,
            raw=_raw(sensors=[{"key": "rpm", "kind": "rpm", "unit": "rpm"}]),
            user_id=user,
        )
        assert [x.key for x in s.get(Machine, machine_id).sensors] == [
            "temperature",
            "vibration",
            "rpm",
        ]
    with db.session() as s:  # a float artefact stored by a script reads as 1980 in the form
        s.scalar(select(Sensor).where(Sensor.key == "rpm")).warn_high = 1800 * 1.1
    with db.session() as s:
        form = [
            {"id": x.id, **x.values()}
            for x in machine_detail(session=s, machine_id=machine_id).machine.sensors
        ]
        form[2]["warn_high"] = 1980
        same = update_machine(
            session=s, machine_id=machine_id, raw=_raw(sensors=form), user_id=user
        )
        assert same.counts() == {}
    clash = _raw(sensors=[{"key": "RPM", "kind": "rpm", "unit": "rpm"}])
    assert "already uses" in _errors(db, clash, machine_id)[("key", 0)]


def test_retire_keeps_readings_and_leaves_the_fleet_and_reactivate_brings_it_back(db: Database):
    user = _admin(db)
    machine_id = _create(db, user)
    now = datetime.now(UTC)
    with db.session() as s:
        sensor = s.scalar(select(Sensor.id).where(Sensor.machine_id == machine_id))
        insert_readings(
            session=s, rows=[(sensor, now - timedelta(seconds=i), 50.0) for i in range(5)]
        )
        assert "press-07" in {c.name for c in machine_cards(session=s)}
    with db.session() as s:
        assert retire_machine(session=s, machine_id=machine_id, user_id=user)
        assert not retire_machine(session=s, machine_id=machine_id, user_id=user)  # once
    with db.session() as s:
        assert "press-07" not in {c.name for c in machine_cards(session=s)}
        assert not [k for k in sensor_directory(session=s) if k[0] == "press-07"]
        assert count(db, Reading) == 5
        row = next(r for r in machine_rows(session=s) if r.name == "press-07")
        assert row.retired_at is not None and row.sensors == 2
    with db.session() as s:
        assert reactivate_machine(session=s, machine_id=machine_id, user_id=user)
    with db.session() as s:
        assert "press-07" in {c.name for c in machine_cards(session=s)}
        assert s.get(Machine, machine_id).retired_at is None
    assert _actions(db)[-2:] == ["machine.retire", "machine.reactivate"]


_BAD_CSV = (
    EXAMPLE_CSV
    + "mixer-02,mixer,Hall 4,Line 9,speed,rpm,rpm,100,50,,\n"  # warn_high below warn_low
    + "mixer-02,mixer,Hall 5,Line 9,temp erature,temperature,°C,,60,,70\n"
)


def test_csv_dry_run_reports_bad_rows_and_stores_nothing(db: Database):
    machines, audits = count(db, Machine), count(db, AuditLog)
    with db.session() as s:
        plan = plan_import(session=s, data=_BAD_CSV.encode())
    errors = {(e.row, e.column): e.message for e in plan.errors}
    assert "> warning low (100)" in errors[(6, "warn_high")]
    assert "Differs from row 6" in errors[(7, "location")]
    assert "letter" in errors[(7, "sensor_key")]
    assert not plan.importable
    with db.session() as s, pytest.raises(ImportRefused):
        apply_import(session=s, data=_BAD_CSV.encode(), user_id=None)
    assert (count(db, Machine), count(db, AuditLog)) == (machines, audits)
    with db.session() as s:
        header = plan_import(session=s, data=b"machine,type,sensor\npress-01,press,rpm\n")
        big = plan_import(session=s, data=b"x" * 1_000_001)
    assert {(e.row, e.column) for e in header.errors} >= {(1, "sensor_key"), (1, "sensor")}
    assert "at most 1,000,000" in big.errors[0].message


def test_clean_csv_imports_whole_then_updates_and_refuses_a_retired_machine(db: Database):
    user = _admin(db)
    with db.session() as s:
        plan = plan_import(session=s, data=EXAMPLE_CSV.encode())
        assert plan.counts() == {"machine.create": 2, "sensor.create": 4} and plan.importable
    assert count(db, Machine) == 0  # the dry run wrote nothing
    with db.session() as s:
        apply_import(session=s, data=EXAMPLE_CSV.encode(), user_id=user, filename="fleet.csv")
    with db.session() as s:
        directory = sensor_directory(session=s)
        assert ("press-01", "rpm") in directory and ("pump-07", "pressure") in directory
        rpm = s.scalar(select(Sensor).where(Sensor.id == directory[("press-01", "rpm")]))
        assert (rpm.crit_low, rpm.warn_low, rpm.warn_high, rpm.crit_high) == (
            1200,
            1350,
            1650,
            1800,
        )
    actions = _actions(db)
    assert actions.count("machine.create") == 2 and actions.count("sensor.create") == 4
    assert actions[-1] == "fleet.import"

    changed = EXAMPLE_CSV.replace(
        "pressure,pressure,bar,2,8,1,10", "pressure,pressure,bar,2,9,1,10"
    )
    with db.session() as s:
        plan = plan_import(session=s, data=changed.encode("utf-8-sig"))  # with Excel's BOM
    assert plan.counts() == {"machine.unchanged": 2, "sensor.unchanged": 3, "sensor.update": 1}
    update = next(c for c in plan.changes if c.action == "update")
    assert update.summary() == "warn_high: 8 → 9"
    semicolons = changed.replace(",", ";").encode()
    with db.session() as s:
        apply_import(session=s, data=semicolons, user_id=user)
    with db.session() as s:
        pressure = s.get(Sensor, directory[("pump-07", "pressure")])
        assert pressure.warn_high == 9.0
        retire_machine(session=s, machine_id=pressure.machine_id, user_id=user)
    with db.session() as s:
        plan = plan_import(session=s, data=changed.encode())
    assert [(e.row, e.column) for e in plan.errors] == [(5, "machine")]


def test_running_writer_accepts_a_new_machine_at_once_and_refuses_a_retired_one(db: Database):
    user = _admin(db)
    _create(db, user, name="motor-00")
    writer = BatchWriter(db, prefix="pdm", limits=PayloadLimits(), directory_max_age_s=0.5)

    def send(machine: str, value: float) -> tuple[int, int]:
        body = json.dumps({"sensor": "temperature", "ts": time.time(), "value": value}).encode()
        message = InboundMessage(f"pdm/{machine}/telemetry".encode(), body, 1, 1, time.time())
        result = writer.write([message])
        return result.inserted, result.dead

    assert send("motor-00", 50.0) == (1, 0)  # the directory is loaded now
    machine_id = _create(db, user)
    assert send("press-07", 51.0) == (1, 0)  # an unknown name reloads it: no restart
    with db.session() as s:
        retire_machine(session=s, machine_id=machine_id, user_id=user)
    time.sleep(0.6)
    assert send("press-07", 52.0) == (0, 1)  # refused once the directory is older than 0.5 s
