"""Rules, alarms and the ticket flow on both databases (no broker needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import add_user
from sqlalchemy import func, select

from config import load_settings
from data.db import Database
from data.models import (
    Alarm,
    AuditLog,
    MaintenancePlan,
    Priority,
    Role,
    Sensor,
    Ticket,
    TicketStatus,
    User,
)
from data.readings import insert_readings
from maintenance.alarming.threshold_rules import evaluate_rules
from maintenance.ops.demo_seed import seed_demo
from maintenance.people.accounts import UserInfo
from maintenance.planning.preventive_plans import create_plan, open_planned_tickets
from maintenance.ticketing.ticket_flow import TransitionError, change_status, open_ticket
from maintenance.ticketing.ticket_list import list_tickets

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW, CLEAR = timedelta(seconds=20), timedelta(seconds=60)


def _seed(db: Database, tmp_path) -> dict[str, int]:
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    from data.fleet_queries import sensor_directory

    with db.session() as s:
        return {f"{m}/{k}": sid for (m, k), sid in sensor_directory(session=s).items()}


def _readings(db: Database, sensor_id: int, value: float, at: datetime, n: int = 5) -> None:
    with db.session() as s:
        insert_readings(
            session=s, rows=[(sensor_id, at - timedelta(seconds=i), value) for i in range(n)]
        )


def _rules(db: Database, at: datetime):
    with db.session() as s:
        return evaluate_rules(session=s, now=at, window=WINDOW, clear_after=CLEAR)


def test_breach_raises_one_alarm_and_one_ticket_then_escalates_and_clears(db, tmp_path):
    sensors = _seed(db, tmp_path)
    vib = sensors["motor-01/vibration"]  # warn 3.6, crit 5.4 mm/s
    _readings(db, vib, 4.0, NOW)
    first = _rules(db, NOW)
    assert len(first.raised) == 1 and len(first.tickets) == 1
    _readings(db, vib, 4.2, NOW + timedelta(seconds=10))
    assert _rules(db, NOW + timedelta(seconds=10)).raised == []  # held, not raised again
    _readings(db, vib, 6.0, NOW + timedelta(seconds=40), n=20)
    escalated = _rules(db, NOW + timedelta(seconds=40))
    assert escalated.escalated == first.raised and escalated.tickets == []
    with db.session() as s:
        [alarm] = s.scalars(select(Alarm)).all()
        assert (alarm.code, alarm.severity.value) == ("VIB_HIGH", "CRITICAL")
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.priority is Priority.CRITICAL  # escalated with its alarm
    _readings(db, vib, 1.8, NOW + timedelta(seconds=70), n=20)
    assert _rules(db, NOW + timedelta(seconds=70)).cleared == []  # hysteresis: not yet
    assert _rules(db, NOW + timedelta(seconds=101)).cleared == first.raised


def test_one_fault_sends_one_technician(db, tmp_path):
    """Further alarms on a machine with an unresolved fault ticket join that ticket (its
    priority rises with them); planned work and other machines are not joined."""
    sensors = _seed(db, tmp_path)
    add_user(db, "tina", Role.TECHNICIAN)
    add_user(db, "otto", Role.TECHNICIAN)  # two could go: one is sent
    manager = UserInfo(add_user(db, "mia", Role.MANAGER), "mia", Role.MANAGER)
    with db.session() as s:
        motor = s.scalar(select(Sensor.machine_id).where(Sensor.id == sensors["motor-01/rpm"]))
        plan = create_plan(  # with the code of the coming alarm: it must not take it
            session=s,
            user=manager,
            name="Check temp",
            code="TEMP_HIGH",
            machine_id=motor,
            every_days=1,
        )
        s.get(MaintenancePlan, plan).created_at = NOW - timedelta(days=2)
    with db.session() as s:
        [planned] = open_planned_tickets(s, NOW)
    _readings(db, sensors["motor-01/temperature"], 75.0, NOW)  # warning only (70..80)
    first = _rules(db, NOW)
    _readings(db, sensors["motor-01/rpm"], 0.0, NOW + timedelta(seconds=10))  # critical
    _readings(db, sensors["pump-01/vibration"], 5.0, NOW + timedelta(seconds=10))
    second = _rules(db, NOW + timedelta(seconds=10))
    with db.session() as s:
        alarms = {a.code: a for a in s.scalars(select(Alarm).where(Alarm.machine_id == motor))}
        fault = s.get(Ticket, alarms["TEMP_HIGH"].ticket_id)
        assert first.tickets == [fault.id] and fault.plan_id is None
        assert alarms["RPM_LOW"].ticket_id == fault.id  # joined, not a ticket of its own
        assert fault.priority is Priority.CRITICAL  # rose with the worse alarm
        assert len(second.tickets) == 1  # the pump's own fault
        assert s.get(Ticket, second.tickets[0]).machine.name == "pump-01"
        assert fault.id != planned and s.get(Ticket, planned).plan_id == plan
        linked = s.scalar(select(func.count(Alarm.id)).where(Alarm.ticket_id == planned))
        assert linked == 0  # planned work stays its own
        trail = s.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity == "ticket", AuditLog.entity_id == str(fault.id))
            .order_by(AuditLog.id)
        ).all()
        assert trail == ["ticket.open", "ticket.alarm", "ticket.escalate"]
        listed = {r.id: r.joined for r in list_tickets(session=s)}
        assert listed[fault.id] == 1 and listed[second.tickets[0]] == 0
        tech = UserInfo(fault.technician_id, fault.technician.username, Role.TECHNICIAN)
        fault_id = fault.id
    with db.session() as s:  # once resolved, the machine's next fault is a new visit
        change_status(session=s, ticket_id=fault_id, to=TicketStatus.IN_PROGRESS, user=tech)
        change_status(
            session=s,
            ticket_id=fault_id,
            to=TicketStatus.RESOLVED,
            user=tech,
            resolution="bearing replaced",
            failure_confirmed=True,
        )
    _readings(db, sensors["motor-01/vibration"], 4.0, NOW + timedelta(seconds=20))
    third = _rules(db, NOW + timedelta(seconds=20))
    with db.session() as s:
        [fresh] = third.tickets
        assert fresh != fault_id and s.get(Ticket, fresh).code == "VIB_HIGH"


def test_low_rpm_is_its_own_code_and_healthy_values_raise_nothing(db, tmp_path):
    sensors = _seed(db, tmp_path)
    _readings(db, sensors["pump-01/rpm"], 0.0, NOW)
    _readings(db, sensors["pump-01/temperature"], 46.0, NOW)
    outcome = _rules(db, NOW)
    with db.session() as s:
        alarms = s.scalars(select(Alarm)).all()
        assert [(a.code, a.severity.value) for a in alarms] == [("RPM_LOW", "CRITICAL")]
        [ticket] = s.scalars(select(Ticket)).all()
        assert ticket.priority is Priority.CRITICAL and ticket.id in outcome.tickets


def test_status_flow_permissions_and_audit(db, tmp_path):
    _seed(db, tmp_path)
    tech = UserInfo(add_user(db, "tina", Role.TECHNICIAN), "tina", Role.TECHNICIAN)
    other = UserInfo(add_user(db, "otto", Role.TECHNICIAN), "otto", Role.TECHNICIAN)
    viewer = UserInfo(add_user(db, "vic", Role.VIEWER), "vic", Role.VIEWER)
    with db.session() as s:
        s.execute(Ticket.__table__.delete())
        ticket = open_ticket(
            session=s, machine_id=1, code="TEMP_HIGH", title="hot", priority=Priority.HIGH
        )
        assert (
            open_ticket(
                session=s, machine_id=1, code="TEMP_HIGH", title="again", priority=Priority.HIGH
            )
            is None
        )  # still open: no second ticket
        ticket_id, assignee = ticket.id, ticket.technician_id
    with db.session() as s:
        owner = s.get(User, assignee)
        me = UserInfo(owner.id, owner.username, owner.role)
    assert me.role is Role.TECHNICIAN
    not_me = other if me.id == tech.id else tech

    def move(user: UserInfo, to: TicketStatus, **kw) -> None:
        with db.session() as s:
            change_status(session=s, ticket_id=ticket_id, to=to, user=user, **kw)

    for user in (viewer, not_me):
        with pytest.raises(TransitionError, match="assigned to you"):
            move(user, TicketStatus.IN_PROGRESS)
    with pytest.raises(TransitionError, match="cannot move to RESOLVED"):
        move(me, TicketStatus.RESOLVED, failure_confirmed=True)
    move(me, TicketStatus.IN_PROGRESS)
    with pytest.raises(TransitionError, match="false alarm"):
        move(me, TicketStatus.RESOLVED)
    move(me, TicketStatus.RESOLVED, resolution="replaced fan", failure_confirmed=True)
    with db.session() as s:
        done = s.get(Ticket, ticket_id)
        assert done.status is TicketStatus.RESOLVED and done.failure_confirmed is True
        assert done.started_at <= done.resolved_at
        trail = s.scalars(
            select(AuditLog).where(
                AuditLog.entity_id == str(ticket_id), AuditLog.action == "ticket.status"
            )
        ).all()
        assert [(a.before["status"], a.after["status"]) for a in trail] == [
            ("OPEN", "IN_PROGRESS"),
            ("IN_PROGRESS", "RESOLVED"),
        ]
        assert list_tickets(session=s) == []
        assert [r.id for r in list_tickets(session=s, include_resolved=True)] == [ticket_id]
        # resolved: the same problem may open a new ticket
        assert (
            open_ticket(
                session=s, machine_id=1, code="TEMP_HIGH", title="hot again", priority=Priority.HIGH
            )
            is not None
        )
