"""The whole loop: simulator fault -> MQTT -> ingest -> readings -> rule alarm -> ticket."""

from __future__ import annotations

import pytest
from factories import Stack, add_user, readings_count, wait_until
from sqlalchemy import select

from data.models import Alarm, JobRun, Role, Severity, Ticket, TicketStatus
from worker import SimulatorThread, Worker, seed_demo


def _tickets(stack: Stack) -> list[Ticket]:
    with stack.db.session() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


@pytest.mark.parametrize("speed", [3600.0])
def test_fast_forwarded_fault_raises_alarm_and_assigns_a_ticket(stack: Stack, speed: float):
    settings = stack.settings.model_copy(
        update={"simulator_speed": speed, "simulator_interval_s": 0.2}
    )
    seed_demo(settings, stack.db)
    second_tech = add_user(stack.db, "tech-2", Role.TECHNICIAN)
    worker = Worker(settings, stack.db)
    worker.start()
    sim = SimulatorThread(settings, first_fault_after_s=1.0)
    try:
        assert worker.client.wait_connected(15)
        sim.start()
        assert wait_until(lambda: readings_count(stack.db) > 30, timeout=30)
        # the fault first breaks the vibration limit, then the machine stops (rpm too low)
        assert wait_until(lambda: len(_tickets(stack)) >= 2, timeout=90), _tickets(stack)
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
        assert "fewest open tickets" in ticket.assignment_reason  # no motor skills here
        # healthy machines stayed quiet: every alarm belongs to the failing machine
        assert {a.machine.name for a in alarms} == {"motor-01"}
    with stack.db.session() as s:
        jobs = {run.job for run in s.scalars(select(JobRun).where(JobRun.ok.is_(True)))}
    assert jobs == {"drain", "rules"}  # scheduler runs that did work are recorded
    tickets = _tickets(stack)
    assert [t.code for t in tickets[:2]] == ["VIB_HIGH", "RPM_LOW"]
    keys = [(t.machine_id, t.code) for t in tickets]
    assert len(keys) == len(set(keys)), "a second ticket for an alarm that is still open"
    # the second ticket goes to the technician with fewer open tickets
    assert tickets[1].technician_id == second_tech != tickets[0].technician_id
