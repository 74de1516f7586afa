"""The whole loop: simulator fault -> MQTT -> ingest -> readings -> rule alarm -> ticket."""

from __future__ import annotations

import pytest
from factories import Stack, add_user, readings_count, wait_until
from sqlalchemy import select

from data.models import Alarm, AuditLog, JobRun, Priority, Role, Severity, Ticket, TicketStatus
from maintenance.alarming.raise_clear import PRIORITY
from maintenance.ops.demo_seed import seed_demo
from simulator.thread import SimulatorThread
from worker import Worker


def _tickets(stack: Stack) -> list[Ticket]:
    with stack.db.session() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def _alarm_codes(stack: Stack) -> list[str]:
    with stack.db.session() as s:
        return list(s.scalars(select(Alarm.code).order_by(Alarm.id)))


@pytest.mark.parametrize("speed", [1200.0])
def test_fast_forwarded_fault_raises_alarm_and_assigns_a_ticket(stack: Stack, speed: float):
    # at 1200x a 3-6 h fault lasts 9-18 s and the repair 3 s; rules average over 6 s, so the
    # vibration limit breaks seconds before the stop even when a loaded machine runs the rules
    # job late (at 3600x, both fell into one rules run and the stop could come first)
    settings = stack.settings.model_copy(
        update={"simulator_speed": speed, "simulator_interval_s": 0.2, "rules_window_s": 6.0}
    )
    seed_demo(settings, stack.db)
    add_user(stack.db, "tech-2", Role.TECHNICIAN)  # two could go: one is sent
    worker = Worker(settings, stack.db)
    worker.start()
    sim = SimulatorThread(settings, first_fault_after_s=1.0)
    try:
        assert worker.client.wait_connected(15)
        sim.start()
        stored = wait_until(lambda: readings_count(stack.db) > 30, timeout=30)
        acked, count_now = sim.publisher.acked, readings_count(stack.db)
        assert stored, f"the broker acked {acked} messages, {count_now} readings stored"
        # the fault first breaks the vibration limit, then the machine stops (rpm too low)
        assert wait_until(lambda: "RPM_LOW" in _alarm_codes(stack), timeout=90), _alarm_codes(stack)
    finally:
        sim.stop()
        worker.stop()

    [episode, *_] = sim.sim.episodes
    assert episode.machine == "motor-01" and episode.mode == "bearing_wear"
    with stack.db.session() as s:
        alarms = list(s.scalars(select(Alarm).order_by(Alarm.id)))
        first = alarms[0]
        assert first.machine.name == "motor-01"
        assert first.code == "VIB_HIGH"
        assert first.severity in (Severity.WARNING, Severity.CRITICAL)
        ticket = s.scalars(select(Ticket).order_by(Ticket.id)).first()
        assert ticket.alarm_id == first.id and ticket.code == "VIB_HIGH"
        assert ticket.status is TicketStatus.OPEN
        assert ticket.technician is not None and ticket.technician.role is Role.TECHNICIAN
        assert ticket.assignment_reason.startswith("assigned: ")
        # the demo's "technician" knows motors and is on call at any time
        assert ticket.technician.username == "technician"
        assert "skill motor" in ticket.assignment_reason
        # healthy machines stayed quiet: every alarm belongs to the failing machine
        assert {a.machine.name for a in alarms} == {"motor-01"}
    with stack.db.session() as s:
        jobs = {run.job for run in s.scalars(select(JobRun).where(JobRun.ok.is_(True)))}
    # scheduler runs that did work are recorded (on a slow machine the first weekly report,
    # 15 s after start, may be among them); escalation had nothing to do
    assert {"drain", "rules"} <= jobs and "escalation" not in jobs
    # one fault, one visit: the machine stopping joins the open vibration ticket, whose
    # priority rises with it, and no second technician is sent
    [ticket] = _tickets(stack)
    with stack.db.session() as s:
        stopped = s.scalars(select(Alarm).where(Alarm.code == "RPM_LOW")).first()
        assert stopped.machine.name == "motor-01" and stopped.ticket_id == ticket.id
        joined = s.scalars(
            select(AuditLog).where(
                AuditLog.action == "ticket.alarm", AuditLog.entity_id == str(ticket.id)
            )
        ).all()
        assert [a.after["code"] for a in joined] == ["RPM_LOW"]
        linked = s.scalars(select(Alarm).where(Alarm.ticket_id == ticket.id)).all()
        rank = [Priority.LOW, Priority.HIGH, Priority.CRITICAL]
        worst = max((PRIORITY[a.severity] for a in linked), key=rank.index)
        assert s.get(Ticket, ticket.id).priority is worst
        assert {a.code for a in linked} >= {"VIB_HIGH", "RPM_LOW"}
