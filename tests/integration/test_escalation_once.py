"""Escalation with several workers on one PostgreSQL: an overdue ticket nobody started is
escalated exactly once (one "escalated" notification, one audit entry), by the worker
holding the escalation lease, also when that worker stops and another takes over; and two
escalation runs that overlap (a slow holder whose lease ran out) never escalate a ticket
twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from factories import make_settings, wait_until
from sqlalchemy import select, text

from data.db import Database, upgrade_schema
from data.models import (
    AuditLog,
    JobRun,
    Machine,
    Notification,
    NotificationChannel,
    Priority,
    Ticket,
)
from maintenance.ops.app_settings import Overrides
from maintenance.ticketing.escalation import escalate_overdue, limits_from
from worker.context import JobContext
from worker.lease_keeper import LeaseKeeper
from worker.recording import JobRecorder
from worker.schedule import FLEET_JOBS, SCHEDULE

TTL_S = 1.5  # renewed every 0.5 s: a stopped holder's leases are taken within a second


@pytest.fixture
def pg_db(postgres) -> Iterator[Database]:
    database = Database(postgres.new_database())
    upgrade_schema(database.engine)
    with database.session() as s:
        s.add(Machine(name="motor-01", type="motor"))
        s.add(NotificationChannel(name="managers", kind="webhook", target="", events=["escalated"]))
    yield database
    database.dispose()


def _overdue(db: Database, n: int) -> list[int]:
    """``n`` critical tickets opened an hour ago (the limit is 15 min), never started."""
    opened = datetime.now(UTC) - timedelta(hours=1)
    with db.session() as s:
        machine = s.scalar(select(Machine.id))
        tickets = [
            Ticket(
                machine_id=machine,
                code="VIB_HIGH",
                title=f"t{i}",
                priority=Priority.CRITICAL,
                created_at=opened,
            )
            for i in range(n)
        ]
        s.add_all(tickets)
        s.flush()
        return [t.id for t in tickets]


def _escalations(db: Database) -> tuple[Counter[int], Counter[str]]:
    """Per ticket: its "escalated" notifications and its ticket.escalate audit entries."""
    with db.session() as s:
        notified = Counter(
            s.scalars(select(Notification.ticket_id).where(Notification.event == "escalated"))
        )
        audited = Counter(
            s.scalars(select(AuditLog.entity_id).where(AuditLog.action == "ticket.escalate"))
        )
    return notified, audited


class _Worker:
    """One worker's lease keeper and its escalation job wrapped as ``Worker.start`` wraps it
    (recorded in job_runs, run only while the lease is held), called every 20 ms rather
    than every minute so the three workers' runs overlap hundreds of times."""

    def __init__(self, name: str, db: Database, tmp_path: Path, go: threading.Barrier) -> None:
        settings = make_settings(tmp_path / name)
        [job] = [j for j in SCHEDULE if j.name == "escalation"]
        ctx = JobContext(settings, db, Overrides(settings, db), drainer=None)  # type: ignore[arg-type]
        self.keeper = LeaseKeeper(db, worker=name, names=FLEET_JOBS, ttl_s=TTL_S)
        body: Callable[[], None] = JobRecorder(db, worker=name).recorded(
            job.name, partial(job.body, ctx)
        )
        self.job = self.keeper.only_when_held(job.name, body)
        self.go, self.stopping = go, threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self.keeper.start()
        self.thread.start()

    def _loop(self) -> None:
        self.go.wait(30)  # every worker's first run at the same instant
        while not self.stopping.is_set():
            self.job()
            self.stopping.wait(0.02)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.keeper.stop()


def _escalated_by(db: Database, since: datetime) -> Counter[str]:
    """Tickets escalated per worker by the job runs started since ``since``. A run records
    itself after its escalations are committed, so wait on this, not on the tickets."""
    with db.session() as s:
        rows = s.execute(
            select(JobRun.worker, JobRun.items).where(
                JobRun.job == "escalation", JobRun.items > 0, JobRun.started_at >= since
            )
        )
        counts: Counter[str] = Counter()
        for worker, items in rows:
            counts[worker] += items
        return counts


def test_three_workers_escalate_each_overdue_ticket_once(pg_db: Database, tmp_path):
    first = _overdue(pg_db, 8)
    go = threading.Barrier(3)
    workers = {name: _Worker(name, pg_db, tmp_path, go) for name in ("w1", "w2", "w3")}
    started = datetime.now(UTC)
    for worker in workers.values():
        worker.start()
    try:
        assert wait_until(lambda: _escalated_by(pg_db, started).total() == len(first), timeout=30)
        more = _overdue(pg_db, 8)  # while all three keep running the job
        assert wait_until(lambda: _escalated_by(pg_db, started).total() == 16, timeout=30)
        [holder] = _escalated_by(pg_db, started)  # the lease holder only
        assert holder in workers

        handover = datetime.now(UTC)
        workers.pop(holder).stop()  # its lease released: another worker's next beat takes it
        last = _overdue(pg_db, 8)
        assert wait_until(lambda: _escalated_by(pg_db, handover).total() == 8, timeout=30)
        [successor] = _escalated_by(pg_db, handover)
        assert successor in workers
        threading.Event().wait(1.0)  # many more runs on both survivors: nothing new
    finally:
        for worker in workers.values():
            worker.stop()
    notified, audited = _escalations(pg_db)
    tickets = [*first, *more, *last]
    assert notified == Counter(dict.fromkeys(tickets, 1))  # one "escalated" each
    assert audited == Counter(dict.fromkeys(map(str, tickets), 1))
    with pg_db.session() as s:
        escalated = s.scalars(select(Ticket.escalated_at).where(Ticket.id.in_(tickets))).all()
    assert None not in escalated


def test_two_overlapping_escalation_runs_escalate_a_ticket_once(pg_db: Database, tmp_path):
    """The holder's run is still going (its transaction open) when another worker runs the
    job: the second run passes over the tickets the first is escalating."""
    [ticket] = _overdue(pg_db, 1)
    limits = limits_from(make_settings(tmp_path))
    now = datetime.now(UTC)
    with pg_db.session() as slow:
        assert escalate_overdue(slow, now, limits) == [ticket]  # not committed yet
        with pg_db.session() as other:  # never waits for the first run's locks
            other.execute(text("SET LOCAL lock_timeout = '5s'"))
            assert escalate_overdue(other, now, limits) == []
    with pg_db.session() as late:  # after the first committed: nothing left to escalate
        assert escalate_overdue(late, now + timedelta(seconds=60), limits) == []
    notified, audited = _escalations(pg_db)
    assert notified == Counter({ticket: 1}) and audited == Counter({str(ticket): 1})
