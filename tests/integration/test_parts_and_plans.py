"""Spare parts taken from stock on tickets, and preventive maintenance plans opening
planned tickets (by calendar and by running hours from rpm readings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import add_user
from sqlalchemy import select

from config import load_settings
from data.db import Database
from data.fleet_queries import sensor_directory
from data.models import (
    AuditLog,
    Machine,
    MaintenancePlan,
    Part,
    PlanProgress,
    Priority,
    Role,
    Ticket,
    TicketPart,
    TicketStatus,
)
from data.readings import insert_readings
from maintenance.machine_status.running_hours import running_hours
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.accounts import UserInfo
from maintenance.planning.preventive_plans import (
    PlanError,
    create_plan,
    due_plans,
    open_planned_tickets,
)
from maintenance.stock.spare_parts import PartError, low_stock, save_part, use_parts
from maintenance.ticketing.ticket_flow import change_status, open_ticket

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _setup(db: Database, tmp_path) -> tuple[UserInfo, UserInfo, int]:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    manager = UserInfo(add_user(db, "pm-manager", Role.MANAGER), "pm-manager", Role.MANAGER)
    tech = UserInfo(add_user(db, "pm-tech", Role.TECHNICIAN), "pm-tech", Role.TECHNICIAN)
    with db.session() as s:
        machine_id = s.scalar(select(Machine.id).where(Machine.name == "pump-01"))
    return manager, tech, machine_id


def _ticket(db: Database, machine_id: int, technician_id: int) -> int:
    with db.session() as s:
        ticket = open_ticket(
            session=s, machine_id=machine_id, code="VIB_HIGH", title="t", priority=Priority.HIGH
        )
        ticket.technician_id = technician_id
        return ticket.id


def test_parts_decrement_refuse_overdraw_and_list_low(db, tmp_path):
    manager, tech, machine_id = _setup(db, tmp_path)
    with db.session() as s:
        bearing = save_part(
            session=s, user=manager, number="B-6204", name="Bearing", stock=5, min_stock=2
        ).id
        seal = save_part(
            session=s, user=manager, number="S-1", name="Seal", stock=1, min_stock=0
        ).id
    with db.session() as s, pytest.raises(PartError, match="already exists"):
        save_part(session=s, user=manager, number="B-6204", name="Again", stock=1, min_stock=0)
    with db.session() as s, pytest.raises(PartError, match="negative"):
        save_part(session=s, user=manager, number="X", name="X", stock=-1, min_stock=0)
    with db.session() as s, pytest.raises(PartError, match="managers"):
        save_part(session=s, user=tech, number="Y", name="Y", stock=1, min_stock=0)
    ticket_id = _ticket(db, machine_id, tech.id)
    with db.session() as s, pytest.raises(PartError, match="in progress"):
        use_parts(session=s, ticket_id=ticket_id, user=tech, items=[(bearing, 1)])
    with db.session() as s:
        change_status(session=s, ticket_id=ticket_id, to=TicketStatus.IN_PROGRESS, user=tech)

    with db.session() as s:
        use_parts(session=s, ticket_id=ticket_id, user=tech, items=[(bearing, 3)])
    with db.session() as s:
        assert s.get(Part, bearing).stock == 2
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "ticket.part")) is not None
        assert [p.number for p in low_stock(s)] == ["B-6204"]  # 2 <= min 2

    # more than in stock: a clear message and nothing stored, not even the other part
    with db.session() as s, pytest.raises(PartError, match="Only 2 pcs of B-6204"):
        use_parts(session=s, ticket_id=ticket_id, user=tech, items=[(seal, 1), (bearing, 3)])
    with db.session() as s:
        assert (s.get(Part, bearing).stock, s.get(Part, seal).stock) == (2, 1)
        assert len(s.scalars(select(TicketPart)).all()) == 1

    # a part for other machine types is refused on this pump's ticket (untyped parts fit all)
    with db.session() as s:
        v_belt = save_part(
            session=s,
            user=manager,
            number="VB-A42",
            name="V-belt",
            stock=4,
            min_stock=1,
            machine_types=["compressor", "motor"],
        ).id
    with db.session() as s, pytest.raises(PartError, match="fits compressor, motor, not this pump"):
        use_parts(session=s, ticket_id=ticket_id, user=tech, items=[(seal, 1), (v_belt, 1)])
    with db.session() as s:
        assert (s.get(Part, v_belt).stock, s.get(Part, seal).stock) == (4, 1)
        use_parts(session=s, ticket_id=ticket_id, user=tech, items=[(seal, 1)])
    with db.session() as s:
        assert s.get(Part, seal).stock == 0


def test_calendar_plan_opens_once_lead_days_ahead_and_early_completion_moves_due(db, tmp_path):
    manager, tech, machine_id = _setup(db, tmp_path)
    with db.session() as s:
        with pytest.raises(PlanError, match="either every N days"):
            create_plan(session=s, user=manager, name="x", code="PM_X", machine_id=machine_id)
        with pytest.raises(PlanError, match="one machine or a machine type"):
            create_plan(session=s, user=manager, name="x", code="PM_X", every_days=3)
        plan_id = create_plan(
            session=s,
            user=manager,
            name="Lubricate",
            code="PM_LUBRICATION",
            machine_id=machine_id,
            every_days=30,
            lead_days=3,
        )
        s.get(MaintenancePlan, plan_id).created_at = NOW
    with db.session() as s:
        assert open_planned_tickets(s, NOW + timedelta(days=26)) == []  # 4 days before due
    with db.session() as s:
        [opened] = open_planned_tickets(s, NOW + timedelta(days=27))
    with db.session() as s:
        assert open_planned_tickets(s, NOW + timedelta(days=28)) == []  # only once
        t = s.get(Ticket, opened)
        assert (t.plan_id, t.priority, t.code, t.title) == (
            plan_id,
            Priority.LOW,
            "PM_LUBRICATION",
            "Planned: Lubricate",
        )
        assert t.due_at.replace(tzinfo=UTC) == NOW + timedelta(days=30)

    # done now (well before the old due date): the next one is 30 days from now
    with db.session() as s:
        change_status(session=s, ticket_id=opened, to=TicketStatus.IN_PROGRESS, user=manager)
        change_status(
            session=s,
            ticket_id=opened,
            to=TicketStatus.RESOLVED,
            user=manager,
            resolution="greased",
            failure_confirmed=False,
        )
    with db.session() as s:
        done = s.get(Ticket, opened).resolved_at
        progress = s.scalar(select(PlanProgress).where(PlanProgress.plan_id == plan_id))
        assert progress.last_done_at == done
        [due] = [d for d in due_plans(s, done) if d.plan_id == plan_id]
        assert due.due_at == done + timedelta(days=30)
        assert due.due_at.replace(tzinfo=UTC) < NOW + timedelta(days=60)


def test_usage_plan_counts_running_hours_from_rpm(db, tmp_path):
    manager, _tech, machine_id = _setup(db, tmp_path)
    with db.session() as s:
        sensor = sensor_directory(session=s)[("pump-01", "rpm")]
        plan_id = create_plan(
            session=s,
            user=manager,
            name="Inspect",
            code="PM_INSPECTION",
            machine_id=machine_id,
            every_running_hours=2,
            lead_days=0,
        )
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=4)
    with db.session() as s:
        s.get(MaintenancePlan, plan_id).created_at = start
    # 90 minutes running, 60 stopped, then 40 running: 130 running minutes
    rows = [(sensor, start + timedelta(minutes=m, seconds=15), 2950.0) for m in range(90)]
    rows += [(sensor, start + timedelta(minutes=90 + m, seconds=15), 0.0) for m in range(60)]
    with db.session() as s:
        insert_readings(session=s, rows=rows)
    at = start + timedelta(minutes=150)
    with db.session() as s:
        assert running_hours(session=s, machine_id=machine_id, since=start, until=at) == 1.5
        assert open_planned_tickets(s, at) == []  # 1.5 of 2 hours, due later
        [due] = due_plans(s, at)
        assert due.hours_since == 1.5 and due.due_at > at
    more = [(sensor, at + timedelta(minutes=m, seconds=15), 2950.0) for m in range(40)]
    with db.session() as s:
        insert_readings(session=s, rows=more)
    with db.session() as s:
        [opened] = open_planned_tickets(s, at + timedelta(minutes=41))
        assert s.get(Ticket, opened).plan_id == plan_id
