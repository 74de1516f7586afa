"""Assignment by skill and shift, managers' reassignment and escalation, on both databases;
the reassign callback's role check through the web app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from factories import WebApp, add_user, clear_tickets
from sqlalchemy import select, update

from config import load_settings
from data.db import Database
from data.models import AuditLog, Priority, Role, Ticket, TicketStatus, User
from maintenance.ops.app_settings import Overrides, SettingError, change_setting
from maintenance.ops.demo_seed import DEMO_TECHNICIANS, seed_demo
from maintenance.people.accounts import UserInfo
from maintenance.ticketing.assignment import AssignmentError, reassign
from maintenance.ticketing.escalation import escalate_overdue, limits_from
from maintenance.ticketing.ticket_flow import change_status, open_ticket
from maintenance.ticketing.ticket_list import list_tickets
from web.views.ticket import TICKET_ID, TICKET_REFRESH
from web.views.ticket_assign import (
    TICKET_ASSIGN_FEEDBACK,
    TICKET_ASSIGN_SELECT,
    TICKET_ASSIGN_SUBMIT,
)

MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)


def _tech(db: Database, name: str, skills: list[str], shift: tuple[int, int] | None) -> int:
    uid = add_user(db, name, Role.TECHNICIAN)
    with db.session() as s:
        user = s.get(User, uid)
        user.skills = skills
        user.shift_start, user.shift_end = shift or (None, None)
    return uid


def _fleet(db: Database, tmp_path) -> dict[str, int]:
    """motor-01, pump-01, compressor-01; the demo technicians are switched off."""
    seed_demo(load_settings(var_dir=tmp_path, demo_machines=3), db)
    with db.session() as s:
        demo = [t.username for t in DEMO_TECHNICIANS]
        s.execute(update(User).where(User.username.in_(demo)).values(active=False))
        from data.models import Machine

        return {m.name: m.id for m in s.scalars(select(Machine))}


def _open(db: Database, machine_id: int, code: str, now: datetime, **kw: object) -> Ticket:
    with db.session() as s:
        ticket = open_ticket(
            session=s,
            machine_id=machine_id,
            code=code,
            title=code,
            priority=kw.get("priority", Priority.HIGH),
            now=now,
        )
        s.expunge(ticket)
        return ticket


def test_open_ticket_picks_by_skill_and_shift_and_stores_why(db, tmp_path):
    machines = _fleet(db, tmp_path)
    day_pump = _tech(db, "dora", ["pump"], (6, 14))
    night_pump = _tech(db, "nils", ["pump"], (22, 6))
    day_motor = _tech(db, "mo", ["motor"], (6, 14))

    first = _open(db, machines["pump-01"], "TEMP_HIGH", MORNING)
    assert first.technician_id == day_pump
    assert first.assignment_reason == "assigned: skill pump, on shift 06-14, 0 open tickets"

    night = _open(db, machines["pump-01"], "VIB_HIGH", NIGHT)  # wraps past midnight
    assert night.technician_id == night_pump
    assert night.assignment_reason == "assigned: skill pump, on shift 22-06, 0 open tickets"

    motor = _open(db, machines["motor-01"], "TEMP_HIGH", MORNING)
    assert motor.technician_id == day_motor

    # nobody on shift knows compressors: the on-shift technician with fewest open tickets
    compressor = _open(db, machines["compressor-01"], "TEMP_HIGH", MORNING)
    assert compressor.technician_id == day_pump  # 1 open ticket, mo also 1: lower id
    assert compressor.assignment_reason == (
        "assigned: no compressor technician on shift: fewest open tickets on shift (1)"
    )
    with db.session() as s:
        audit = s.scalar(
            select(AuditLog).where(
                AuditLog.action == "ticket.open", AuditLog.entity_id == str(compressor.id)
            )
        )
        assert audit.after["reason"] == compressor.assignment_reason


def test_resolved_tickets_do_not_count_as_open(db, tmp_path):
    machines = _fleet(db, tmp_path)
    a = _tech(db, "ann", ["pump"], None)
    b = _tech(db, "ben", ["pump"], None)
    t1 = _open(db, machines["pump-01"], "TEMP_HIGH", MORNING)
    t2 = _open(db, machines["pump-01"], "VIB_HIGH", MORNING)
    assert (t1.technician_id, t2.technician_id) == (a, b)
    who = UserInfo(a, "ann", Role.TECHNICIAN)
    with db.session() as s:
        change_status(session=s, ticket_id=t1.id, to=TicketStatus.IN_PROGRESS, user=who)
        change_status(
            session=s,
            ticket_id=t1.id,
            to=TicketStatus.RESOLVED,
            user=who,
            failure_confirmed=False,
        )
    t3 = _open(db, machines["pump-01"], "RPM_LOW", MORNING)
    assert t3.technician_id == a
    assert t3.assignment_reason.endswith("0 open tickets")


def test_reassign_is_for_managers_and_audited(db, tmp_path):
    machines = _fleet(db, tmp_path)
    a = _tech(db, "ann", ["pump"], None)
    b = _tech(db, "ben", ["motor"], None)
    boss = UserInfo(add_user(db, "boss", Role.MANAGER), "boss", Role.MANAGER)
    ticket = _open(db, machines["pump-01"], "TEMP_HIGH", MORNING)
    assert ticket.technician_id == a
    for user, message in (
        (UserInfo(a, "ann", Role.TECHNICIAN), "Only managers and admins"),
        (UserInfo(boss.id, "boss", Role.VIEWER), "Only managers and admins"),
    ):
        with db.session() as s, pytest.raises(AssignmentError, match=message):
            reassign(session=s, ticket_id=ticket.id, technician_id=b, user=user)
    with db.session() as s, pytest.raises(AssignmentError, match="active technician"):
        reassign(session=s, ticket_id=ticket.id, technician_id=boss.id, user=boss)
    with db.session() as s:
        assert reassign(session=s, ticket_id=ticket.id, technician_id=b, user=boss) == "ben"
    with db.session() as s:
        stored = s.get(Ticket, ticket.id)
        assert stored.technician_id == b
        assert stored.assignment_reason == "assigned: reassigned by boss"
        [entry] = s.scalars(select(AuditLog).where(AuditLog.action == "ticket.reassign"))
        assert entry.user_id == boss.id
        assert entry.before == {"technician_id": a, "technician": "ann"}
        assert entry.after["technician"] == "ben" and entry.after["technician_id"] == b


def test_escalation_after_the_limit_once_only(db, tmp_path):
    machines = _fleet(db, tmp_path)
    _tech(db, "ann", ["pump"], None)
    limits = limits_from(load_settings(var_dir=tmp_path))  # 15 min, 2 h, 1 day
    crit = _open(db, machines["pump-01"], "VIB_HIGH", MORNING, priority=Priority.CRITICAL)
    high = _open(db, machines["pump-01"], "TEMP_HIGH", MORNING, priority=Priority.HIGH)
    low = _open(db, machines["motor-01"], "TEMP_LOW", MORNING, priority=Priority.LOW)
    started = _open(db, machines["motor-01"], "VIB_HIGH", MORNING, priority=Priority.CRITICAL)
    with db.session() as s:
        s.get(Ticket, started.id).status = TicketStatus.IN_PROGRESS
        s.get(Ticket, started.id).started_at = MORNING + timedelta(minutes=1)

    def run(after: timedelta) -> list[int]:
        with db.session() as s:
            return escalate_overdue(s, MORNING + after, limits)

    assert run(timedelta(minutes=14)) == []
    assert run(timedelta(minutes=15)) == [crit.id]
    assert run(timedelta(minutes=16)) == []  # once only
    assert run(timedelta(hours=2, minutes=1)) == [high.id]
    assert run(timedelta(days=1, minutes=1)) == [low.id]
    assert run(timedelta(days=3)) == []
    with db.session() as s:
        entries = s.scalars(select(AuditLog).where(AuditLog.action == "ticket.escalate")).all()
        assert sorted(int(e.entity_id) for e in entries) == sorted([crit.id, high.id, low.id])
        assert s.get(Ticket, crit.id).escalated_at == MORNING + timedelta(minutes=15)
        assert s.get(Ticket, started.id).escalated_at is None
        rows = {r.id: r for r in list_tickets(session=s)}
        assert rows[crit.id].escalated_at is not None and rows[started.id].escalated_at is None


def test_escalation_limits_changed_in_the_app_apply(db, tmp_path):
    machines = _fleet(db, tmp_path)
    _tech(db, "ann", ["pump"], None)
    settings = load_settings(var_dir=tmp_path)
    admin = add_user(db, "root", Role.ADMIN)
    live = Overrides(settings, db, ttl_s=0)
    high = _open(db, machines["pump-01"], "TEMP_HIGH", MORNING, priority=Priority.HIGH)
    with db.session() as s:
        assert (
            escalate_overdue(s, MORNING + timedelta(minutes=30), limits_from(live.current())) == []
        )
    with db.session() as s:
        change_setting(
            session=s, settings=settings, key="escalate_high_min", raw="30", user_id=admin
        )
    for raw, message in (("0", "Between"), ("2.5", "whole number"), ("soon", "number")):
        with db.session() as s, pytest.raises(SettingError, match=message):
            change_setting(
                session=s, settings=settings, key="escalate_high_min", raw=raw, user_id=admin
            )
    assert live.current().escalate_high_min == 30
    with db.session() as s:
        at = MORNING + timedelta(minutes=30)
        assert escalate_overdue(s, at, limits_from(live.current())) == [high.id]


# --- through the web app: the reassign callback checks the role on the server ---


def _assign_body(web: WebApp, ticket_id: int, technician_id: int) -> dict:
    key = next(k for k in web.app.callback_map if f"{TICKET_ASSIGN_FEEDBACK}.children" in k)
    return {
        "output": key,
        "outputs": [
            {"id": TICKET_ASSIGN_FEEDBACK, "property": "children"},
            {"id": TICKET_REFRESH, "property": "data"},
        ],
        "inputs": [{"id": TICKET_ASSIGN_SUBMIT, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": TICKET_ASSIGN_SELECT, "property": "value", "value": str(technician_id)},
            {"id": TICKET_ID, "property": "data", "value": ticket_id},
            {"id": TICKET_REFRESH, "property": "data", "value": 0},
        ],
        "changedPropIds": [f"{TICKET_ASSIGN_SUBMIT}.n_clicks"],
    }


@pytest.fixture
def spare_technician(web: WebApp) -> Iterator[int]:
    """A second technician for the shared app, inactive again afterwards so that other
    tests' new tickets still go to the demo technician."""
    with web.db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "tech-reassign"))
    uid = uid or add_user(web.db, "tech-reassign", Role.TECHNICIAN)
    with web.db.session() as s:
        s.get(User, uid).active = True
    yield uid
    with web.db.session() as s:
        clear_tickets(s)
        s.get(User, uid).active = False


@pytest.mark.parametrize(
    ("user", "allowed"), [("technician", False), ("viewer", False), ("manager", True)]
)
def test_reassign_callback_checks_the_role(
    web: WebApp, spare_technician: int, user: str, allowed: bool
):
    other = spare_technician
    with web.db.session() as s:
        clear_tickets(s)
        ticket = open_ticket(
            session=s, machine_id=1, code="TEMP_HIGH", title="hot", priority=Priority.HIGH
        )
        ticket.technician_id = s.scalar(select(User.id).where(User.username == "technician"))
        ticket_id = ticket.id
    response = web.client(user).post(
        "/_dash-update-component", json=_assign_body(web, ticket_id, other)
    )
    assert response.status_code == 200
    text = json.dumps(response.get_json())
    with web.db.session() as s:
        assignee = s.scalar(select(Ticket.technician_id).where(Ticket.id == ticket_id))
    if allowed:
        assert "is now assigned to tech-reassign" in text
        assert assignee == other
    else:
        assert "Your role may not do this." in text
        assert assignee != other


def test_the_worker_job_uses_the_current_limits(db, tmp_path):
    """The scheduler's "escalation" job body, with the limits changed in the app."""
    from types import SimpleNamespace

    from worker.ticket_jobs import escalate

    machines = _fleet(db, tmp_path)
    _tech(db, "ann", ["pump"], None)
    settings = load_settings(var_dir=tmp_path)
    admin = add_user(db, "root", Role.ADMIN)
    opened = datetime.now(UTC) - timedelta(minutes=10)
    low = _open(db, machines["pump-01"], "TEMP_LOW", opened, priority=Priority.LOW)
    job = SimpleNamespace(overrides=Overrides(settings, db, ttl_s=0), db=db)
    assert escalate(job) == 0  # 1440 min by default
    with db.session() as s:
        change_setting(session=s, settings=settings, key="escalate_low_min", raw="5", user_id=admin)
    assert escalate(job) == 1
    assert escalate(job) == 0  # once only
    with db.session() as s:
        assert s.get(Ticket, low.id).escalated_at is not None
