"""A machine's state comes first: no data yet, running, stopped or in maintenance; a
stopped machine shows no stale failure risk and is named in the red banner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import demo_database
from sqlalchemy import select

from data.db import Database
from data.fleet_queries import sensor_directory
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Machine,
    Prediction,
    Severity,
)
from data.readings import insert_readings
from maintenance.alarming.banner import acknowledge_warning, red_warnings
from maintenance.alarming.raise_clear import AlarmNumbers, acknowledge, raise_alarm
from maintenance.machine_status.machine_state import machine_cards
from web.views.fleet import STATUS_LABEL, risk_line
from web.views.shell import _detail

RUNNING = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    _, database = demo_database(tmp_path)
    yield database
    database.dispose()


def _read(db: Database, machine: str, values: dict[str, float], ago_s: float = 0) -> None:
    at = datetime.now(UTC) - timedelta(seconds=ago_s)
    with db.session() as s:
        sensors = sensor_directory(session=s)
        insert_readings(session=s, rows=[(sensors[(machine, k)], at, v) for k, v in values.items()])


def _predict(db: Database, machine_id: int, probability: float, rul_h: float) -> None:
    with db.session() as s:
        s.add(
            Prediction(
                machine_id=machine_id,
                ts=datetime.now(UTC),
                failure_probability=probability,
                rul_hours=rul_h,
            )
        )


def _cards(db: Database) -> dict[str, object]:
    with db.session() as s:
        return {c.name: c for c in machine_cards(session=s)}


def _raise(db: Database, machine_id: int, code: str, value: float, ago_s: float = 0, **more) -> int:  # noqa: ANN003
    """A critical alarm on the machine: a stop (RPM_LOW, by the rules) or a prediction."""
    with db.session() as s:
        alarm, _ = raise_alarm(
            session=s,
            machine_id=machine_id,
            code=code,
            severity=Severity.CRITICAL,
            source=AlarmSource.RULE if code == "RPM_LOW" else AlarmSource.PREDICTION,
            message=f"{code}: {value}",
            value=value,
            now=datetime.now(UTC) - timedelta(seconds=ago_s),
            **more,
        )
        return alarm.id


def _id(db: Database, name: str) -> int:
    with db.session() as s:
        return s.scalar(select(Machine.id).where(Machine.name == name))


def test_a_machine_without_data_is_not_healthy(db):
    cards = _cards(db)
    assert {c.status for c in cards.values()} == {"no_data"}
    card = cards["motor-01"]
    assert STATUS_LABEL[card.status] == "No data yet"
    assert risk_line(card) == "Waiting for its first reading"
    _read(db, "motor-01", RUNNING)
    assert _cards(db)["motor-01"].status == "ok"


def test_a_machine_below_its_critical_rpm_reads_stopped_without_stale_risk(db):
    pump = _id(db, "pump-01")
    _read(db, "pump-01", {**RUNNING, "rpm": 2950.0}, ago_s=60)
    _predict(db, pump, 0.03, 22.0)  # from before the stop: scoring skips a still machine
    assert "Failure risk 3%" in risk_line(_cards(db)["pump-01"])
    _read(db, "pump-01", {**RUNNING, "rpm": 0.0})
    card = _cards(db)["pump-01"]
    assert card.status == "stopped" and STATUS_LABEL[card.status] == "Stopped"
    assert card.failure_probability is None and card.rul_hours is None
    assert risk_line(card).startswith("Stopped") and "%" not in risk_line(card)
    assert next(iter(_cards(db))) == "pump-01"  # stopped machines first


def test_an_open_breakdown_or_stop_alarm_means_stopped_and_planned_work_means_maintenance(db):
    motor, pump = _id(db, "motor-01"), _id(db, "pump-01")
    for name in ("motor-01", "pump-01"):
        _read(db, name, RUNNING)
    began = datetime.now(UTC) - timedelta(minutes=12)
    with db.session() as s:
        s.add(Downtime(machine_id=motor, kind=DowntimeKind.BREAKDOWN, started_at=began))
        s.add(Downtime(machine_id=pump, kind=DowntimeKind.PLANNED, started_at=began))
    cards = _cards(db)
    assert cards["motor-01"].status == "stopped" and cards["motor-01"].since == began
    assert risk_line(cards["motor-01"]) == "Stopped for 12 min"
    assert cards["pump-01"].status == "maintenance"
    assert risk_line(cards["pump-01"]) == "In maintenance for 12 min"


def test_the_banner_names_a_stopped_machine_until_acknowledged(db):
    pump = _id(db, "pump-01")
    stop_id = _raise(db, pump, "RPM_LOW", 0.0)
    predicted_id = _raise(db, pump, "PRED_FAILURE", 0.9)
    assert _cards(db)["pump-01"].status == "stopped"
    with db.session() as s:
        warnings = red_warnings(session=s)
    assert [(w.machine, w.kind, w.alarm_id) for w in warnings] == [("pump-01", "stopped", stop_id)]
    with db.session() as s:  # one line per machine: acknowledging it answers both alarms
        assert acknowledge_warning(session=s, alarm_id=stop_id, user_id=1) == 2
    with db.session() as s:
        assert red_warnings(session=s) == []
        assert s.get(Alarm, predicted_id).acknowledged_at is not None


def test_stopped_machines_head_the_banner(db):
    motor, pump = _id(db, "motor-01"), _id(db, "pump-01")
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    with db.session() as s:
        for machine, code, source, at in (
            (motor, "PRED_FAILURE", AlarmSource.PREDICTION, earlier),
            (pump, "RPM_LOW", AlarmSource.RULE, datetime.now(UTC)),
        ):
            raise_alarm(
                session=s,
                machine_id=machine,
                code=code,
                severity=Severity.CRITICAL,
                source=source,
                message=code,
                value=0.0,
                now=at,
            )
    with db.session() as s:
        assert [w.machine for w in red_warnings(session=s)] == ["pump-01", "motor-01"]


def test_a_stopped_machine_never_shows_its_failure_risk_in_the_banner(db):
    """The banner once read "pump-01 is predicted to fail … ≈ 3 min" for a machine standing
    still: in the seconds before the rules' window raises the stop alarm (the machine's state
    reads stopped from its newest rpm at once), and for as long as the stop alarm was
    acknowledged on the alarms page while the prediction alarm was not."""
    pump = _id(db, "pump-01")
    _read(db, "pump-01", {**RUNNING, "rpm": 2950.0}, ago_s=30)
    numbers = AlarmNumbers(0.95, 0.8, None, 0.95, 0.05)
    predicted_id = _raise(db, pump, "PRED_FAILURE", 0.95, ago_s=20, numbers=numbers)

    def banner() -> list[tuple[str, str, str]]:
        with db.session() as s:
            warnings = red_warnings(session=s)
        return [(w.machine, w.kind, _detail(w)) for w in warnings]

    [(machine, kind, detail)] = banner()  # running: the prediction, with its numbers
    assert (machine, kind) == ("pump-01", "predicted") and "95%" in detail

    _read(db, "pump-01", {**RUNNING, "rpm": 0.0})  # stopped; the rules have not run yet
    assert banner() == [("pump-01", "stopped", "Standing still.")]

    stop_id = _raise(db, pump, "RPM_LOW", 0.0, ago_s=180)
    with db.session() as s:  # the stop alarm, acknowledged on the alarms page alone
        acknowledge(session=s, alarm_id=stop_id, user_id=1)
    [(machine, kind, detail)] = banner()
    assert (machine, kind, detail) == ("pump-01", "stopped", "Standing still for 3 min.")
    assert "%" not in detail and "≈" not in detail
    with db.session() as s:  # its Acknowledge button answers the prediction
        [w] = red_warnings(session=s)
        assert w.alarm_id == predicted_id

    with db.session() as s:  # planned work on it: the banner alarms nobody
        s.add(Downtime(machine_id=pump, kind=DowntimeKind.PLANNED, started_at=datetime.now(UTC)))
    assert banner() == []
