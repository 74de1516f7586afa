"""The drift job against a real database (SQLite and PostgreSQL): live readings like the
training fleet's raise nothing; a recalibrated temperature sensor raises the drift alarm on
that machine and sensor after the configured checks in a row, with its SOP, no ticket, and a
notification for the engineers' channel; so do a hotter season (on temperature) and a
changed duty cycle (on that type's rpm); a new machine type is "no reference"; a model
without a reference says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories import make_settings
from sqlalchemy import select

from data.fleet_queries import sensor_directory
from data.models import (
    Alarm,
    AlarmSource,
    DriftGridChunk,
    DriftResult,
    Machine,
    ModelVersion,
    Notification,
    NotificationChannel,
    Reading,
    Sensor,
    Severity,
    Sop,
    Ticket,
)
from data.readings import insert_readings
from maintenance.model_health.drift_alarm import CODE
from maintenance.ops.demo_seed import seed_demo
from maintenance.ops.model_lab import simulated
from ml.drift_reference import FILE
from ml.registry import promote
from ml.train_register import train_and_register
from ml.windows import Params
from simulator.labelled import SENSORS, labelled_history

QUICK = Params(window=30, epochs=1, stride=10, n_estimators=30, units=8, family="tree")
MACHINES = 9  # three of each type
HOURS = 24  # model hours of live data: the drift period (three load cycles)


@pytest.fixture
def trained(db, tmp_path):
    """A seeded plant, active models trained on a simulated fleet of its types, a channel
    subscribed to drift, and a worker (not started) whose jobs are called directly."""
    from worker import Worker

    settings = make_settings(
        tmp_path,
        demo_machines=MACHINES,
        ml_time_scale=60.0,  # a model step of 60 s is one wall second
        drift_period_h=HOURS,
        drift_min_windows=100,
    )
    seed_demo(settings, db)
    versions = train_and_register(
        db=db, models_dir=tmp_path / "models", data=simulated(MACHINES, 3, seed=21), params=QUICK
    )
    with db.session() as s:
        for kind, version in versions.items():
            promote(session=s, kind=kind, version=version)
        s.add(
            NotificationChannel(
                name="engineers", kind="slack", target="http://x/hook", events=["model_drift"]
            )
        )
    return Worker(settings, db)


def _live(
    db,
    *,
    offset: float = 0.0,
    machine_type: str | None = None,
    unit: str | None = None,
    ramp_h: float | None = None,
    rpm_factor: float = 1.0,
) -> None:
    """HOURS of a simulated fleet of other seed as the last HOURS × 60 wall seconds, with
    ``offset`` added to the temperature of every machine of ``machine_type`` (their sensors
    recalibrated), or to ``unit``'s alone, or to every machine's when neither is given;
    ``ramp_h``: the offset grows linearly from the period's start over these model hours (a
    hotter season); ``rpm_factor``: the rpm of ``machine_type``'s machines is scaled by it (a
    changed duty cycle)."""
    readings, _ = labelled_history(machines=MACHINES, days=HOURS / 24 + 0.02, seed=22)
    now = datetime.now(UTC)
    steps = readings.groupby("unit").cumcount(ascending=False).to_numpy()
    hours_in = (steps.max() - steps) * 60.0 / 3600  # model hours since the period began
    ramp = np.clip(hours_in / ramp_h, 0.0, 1.0) if ramp_h else 1.0
    everyone = machine_type is None and unit is None
    with db.session() as s:
        ids = sensor_directory(session=s)
        rows = []
        for sensor in SENSORS:
            moved = (readings["type"] == machine_type) | (readings["unit"] == unit) | everyone
            values = readings[sensor].to_numpy(float) + np.where(
                moved & (sensor == "temperature"), offset * ramp, 0.0
            )
            if sensor == "rpm":
                values = values * np.where(moved, rpm_factor, 1.0)
            rows += [
                (ids[(unit, sensor)], now - timedelta(seconds=int(k)), float(v))
                for unit, k, v in zip(readings["unit"], steps, values, strict=True)
            ]
        insert_readings(session=s, rows=rows)


def _check(worker, times: int = 1) -> None:
    from worker.drift_job import drift

    for _ in range(times):
        assert drift(worker.context) > 0


def test_no_change_raises_no_drift_alarm(trained):
    _live(trained.db)
    long_ago = datetime.now(UTC) - timedelta(days=120)
    with trained.db.session() as s:  # a check from before the history kept
        s.add(
            DriftResult(
                checked_at=long_ago,
                machine_type="pump",
                feature="rpm_level",
                period_start=long_ago,
                period_end=long_ago,
            )
        )
    _check(trained, 3)
    with trained.db.session() as s:
        rows = s.scalars(select(DriftResult)).all()
        alarms = s.scalars(select(Alarm).where(Alarm.code == CODE)).all()
    inputs = [r for r in rows if r.kind == "input"]
    assert {r.machine_type for r in rows} == {"motor", "pump", "compressor"}
    assert inputs and all(r.status == "ok" for r in inputs), [
        (r.machine_type, r.feature, r.psi) for r in inputs if r.status != "ok"
    ]
    assert alarms == []
    assert min(r.checked_at for r in rows) > long_ago  # the old check was forgotten
    with trained.db.session() as s:  # the period's per-step means are kept for the next check
        kept = s.scalars(select(DriftGridChunk)).all()
    assert kept and sum(c.readings for c in kept) > MACHINES * len(SENSORS) * 1000


def test_a_recalibrated_sensor_raises_the_drift_alarm_on_it_without_a_ticket(trained):
    _live(trained.db, offset=3.0, machine_type="pump")
    _check(trained, 2)
    with trained.db.session() as s:
        assert s.scalars(select(Alarm).where(Alarm.code == CODE)).all() == []  # not yet
    _check(trained)  # the third check in a row over the threshold
    with trained.db.session() as s:
        alarm = s.scalars(select(Alarm).where(Alarm.code == CODE)).one()
        machine = s.get(Machine, alarm.machine_id)
        sensor = s.get(Sensor, alarm.sensor_id)
        worst = s.scalars(
            select(DriftResult)
            .where(DriftResult.machine_type == "pump", DriftResult.kind == "input")
            .order_by(DriftResult.psi.desc())
        ).first()
        tickets = s.scalars(select(Ticket)).all()
        sop = s.scalars(select(Sop).where(Sop.code == CODE)).one_or_none()
        sent = s.scalars(select(Notification).where(Notification.event == "model_drift")).all()
    assert (alarm.severity, alarm.source, alarm.ticket_id) == (
        Severity.WARNING,
        AlarmSource.DRIFT,
        None,
    )
    assert machine.type == "pump" and sensor.kind == "temperature"
    assert sensor.machine_id == machine.id
    assert worst.feature.startswith("temperature_") and worst.status == "drift"
    assert "Model drift on pump: temperature_" in alarm.message
    assert tickets == []
    assert sop is not None
    assert len(sent) == 1 and "/model-health?type=pump" in sent[0].payload["link"]


def _drift_alarms(db) -> list[tuple[str, str, str, int | None]]:
    """(machine type, machine, sensor kind, ticket) of every drift alarm."""
    with db.session() as s:
        out = []
        for alarm in s.scalars(select(Alarm).where(Alarm.code == CODE)):
            machine, sensor = s.get(Machine, alarm.machine_id), s.get(Sensor, alarm.sensor_id)
            out.append((machine.type, machine.name, sensor.kind, alarm.ticket_id))
        return out


def test_a_hotter_season_raises_the_drift_alarm_on_temperature(trained):
    """Every machine's temperature rises 3 °C over 12 model hours and stays there: the
    alarm comes at the third check in a row, on temperature, with no ticket."""
    _live(trained.db, offset=3.0, ramp_h=12.0)
    _check(trained, 2)
    assert _drift_alarms(trained.db) == []
    _check(trained)
    raised = _drift_alarms(trained.db)
    assert raised and {(kind, ticket) for _t, _m, kind, ticket in raised} == {("temperature", None)}


def test_a_changed_duty_cycle_raises_the_drift_alarm_on_rpm_of_that_type(trained):
    """Every compressor runs at 90 % rpm: the alarm names a compressor's rpm; the other
    types, unchanged, raise nothing."""
    _live(trained.db, machine_type="compressor", rpm_factor=0.9)
    _check(trained, 3)
    raised = _drift_alarms(trained.db)
    assert raised and {(t, kind) for t, _m, kind, _ticket in raised} == {("compressor", "rpm")}


def test_one_recalibrated_machine_of_three_raises_the_alarm_naming_it(trained):
    """The type's own rows stay under their threshold (a third of the type's windows
    moved); the machine's own levels do not."""
    _live(trained.db, offset=3.0, unit="pump-02")
    _check(trained, 3)
    with trained.db.session() as s:
        alarm = s.scalars(select(Alarm).where(Alarm.code == CODE)).one()
        machine = s.get(Machine, alarm.machine_id)
        sensor = s.get(Sensor, alarm.sensor_id)
        mine = s.scalars(
            select(DriftResult).where(
                DriftResult.machine_type == "pump", DriftResult.kind == "machine"
            )
        ).all()
    assert machine.name == "pump-02" and sensor.kind == "temperature"
    assert alarm.message.startswith("Model drift on pump-02 (pump): its own temperature_")
    drifted = [r for r in mine if r.status == "drift"]
    assert drifted and {r.worst_machine_id for r in drifted} == {machine.id}
    assert {r.feature.split("_")[0] for r in drifted} == {"temperature"}


def test_a_machine_type_the_model_never_saw_is_no_reference_not_silence(trained):
    """A fan joins the fleet: its type gets "no reference" rows at every check, the types
    the model knows are judged as before, and nothing alarms on the fan."""
    with trained.db.session() as s:
        fan = Machine(name="fan-01", type="fan", location="hall", line="L1")
        fan.sensors = [Sensor(key=k, kind=k, unit="u") for k in SENSORS]
        s.add(fan)
    _live(trained.db)
    with trained.db.session() as s:  # the fan reads like pump-01, 10 degrees hotter
        ids = sensor_directory(session=s)
        copied = s.execute(
            select(Reading.sensor_id, Reading.ts, Reading.value)
            .join(Sensor, Sensor.id == Reading.sensor_id)
            .join(Machine, Machine.id == Sensor.machine_id)
            .where(Machine.name == "pump-01")
        ).all()
        kinds = {sid: kind for (name, kind), sid in ids.items() if name == "pump-01"}
        rows = [
            (ids[("fan-01", kinds[sid])], ts, v + (10.0 if kinds[sid] == "temperature" else 0.0))
            for sid, ts, v in copied
        ]
        insert_readings(session=s, rows=rows)
    _check(trained, 3)
    with trained.db.session() as s:
        rows = s.scalars(select(DriftResult)).all()
        alarms = s.scalars(select(Alarm).where(Alarm.code == CODE)).all()
    fan_rows = [r for r in rows if r.machine_type == "fan"]
    assert len(fan_rows) == 3 and {r.status for r in fan_rows} == {"no reference"}
    known = [r for r in rows if r.machine_type != "fan" and r.kind == "input"]
    assert known and {r.status for r in known} <= {"ok", "drift"}
    assert not [r for r in rows if r.kind == "machine" and r.machine_type == "fan"]
    assert alarms == []


def test_a_model_without_a_reference_says_so(trained):
    with trained.db.session() as s:
        for model in s.scalars(select(ModelVersion)):
            (Path(model.artefact) / FILE).unlink(missing_ok=True)
    _live(trained.db, offset=3.0, machine_type="pump")
    _check(trained, 3)
    with trained.db.session() as s:
        rows = s.scalars(select(DriftResult)).all()
        alarms = s.scalars(select(Alarm).where(Alarm.code == CODE)).all()
    assert rows and {r.status for r in rows} == {"no reference"}
    assert alarms == []
