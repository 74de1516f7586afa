"""Stops seen in the rpm data become downtime; maintenance windows make them planned; a
technician's resolution takes over the detected period instead of adding a second one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import add_user
from sqlalchemy import select

from config import load_settings
from data.db import Database
from data.fleet_queries import sensor_directory
from data.models import Downtime, DowntimeKind, Machine, Priority, Role, TicketStatus
from data.readings import insert_readings
from maintenance.machine_status.downtime import track_stops
from maintenance.machine_status.maintenance_windows import silence_machine
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.accounts import UserInfo
from maintenance.ticketing.ticket_flow import change_status, open_ticket

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
WINDOW = timedelta(seconds=20)


def _rpm(db: Database, tmp_path, machine: str = "pump-01") -> tuple[int, int]:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    with db.session() as s:
        sensor = sensor_directory(session=s)[(machine, "rpm")]
        machine_id = s.scalar(select(Machine.id).where(Machine.name == machine))
    return sensor, machine_id


def _run(db: Database, sensor: int, value: float, at: datetime):
    with db.session() as s:
        insert_readings(
            session=s, rows=[(sensor, at - timedelta(seconds=i), value) for i in range(10)]
        )
    with db.session() as s:
        return track_stops(session=s, now=at, window=WINDOW)


def _periods(db: Database) -> list[Downtime]:
    with db.session() as s:
        return list(s.scalars(select(Downtime).order_by(Downtime.id)))


def test_a_stop_opens_one_breakdown_and_running_again_closes_it(db, tmp_path):
    sensor, machine_id = _rpm(db, tmp_path)
    assert _run(db, sensor, 2950.0, NOW).opened == []
    stop = _run(db, sensor, 0.0, NOW + timedelta(minutes=1))
    assert len(stop.opened) == 1
    assert _run(db, sensor, 0.0, NOW + timedelta(minutes=2)).opened == []  # still the same stop
    again = _run(db, sensor, 2950.0, NOW + timedelta(minutes=10))
    assert again.closed == stop.opened
    [period] = _periods(db)
    assert (period.machine_id, period.kind, period.source) == (
        machine_id,
        DowntimeKind.BREAKDOWN,
        "detected",
    )
    assert period.started_at < period.ended_at <= NOW + timedelta(minutes=10)


def test_a_stop_in_a_maintenance_window_is_planned(db, tmp_path):
    sensor, machine_id = _rpm(db, tmp_path)
    admin = add_user(db, "boss", Role.MANAGER)
    with db.session() as s:
        silence_machine(session=s, machine_id=machine_id, hours=2, reason="planned", user_id=admin)
    _run(db, sensor, 0.0, datetime.now(UTC))
    [period] = _periods(db)
    assert period.kind is DowntimeKind.PLANNED and period.ended_at is None


def test_resolving_the_ticket_takes_over_the_detected_stop(db, tmp_path):
    sensor, machine_id = _rpm(db, tmp_path)
    _run(db, sensor, 0.0, NOW)
    boss = add_user(db, "boss", Role.MANAGER)
    user = UserInfo(boss, "boss", Role.MANAGER)
    with db.session() as s:
        ticket = open_ticket(
            session=s,
            machine_id=machine_id,
            code="RPM_LOW",
            title="stopped",
            priority=Priority.HIGH,
        )
        change_status(session=s, ticket_id=ticket.id, to=TicketStatus.IN_PROGRESS, user=user)
        change_status(
            session=s,
            ticket_id=ticket.id,
            to=TicketStatus.RESOLVED,
            user=user,
            resolution="bearing replaced",
            failure_confirmed=True,
            downtime=(NOW - timedelta(minutes=1), NOW + timedelta(minutes=20)),
        )
        ticket_id = ticket.id
    [period] = _periods(db)  # one breakdown, not two
    assert (period.ticket_id, period.source, period.kind) == (
        ticket_id,
        "ticket",
        DowntimeKind.BREAKDOWN,
    )
    assert period.ended_at == NOW + timedelta(minutes=20)
