"""Realised alarm quality from technicians' verdicts and recorded breakdowns equals a hand
count on a small labelled set (SQLite and PostgreSQL), and says "too few" below the minimum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import make_settings
from sqlalchemy import select

from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Machine,
    Priority,
    Severity,
    Ticket,
    TicketStatus,
)
from maintenance.model_health.realised_quality import realised_quality
from maintenance.ops.demo_seed import seed_demo

NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=6)


def _alarm(s, machine: int, at: datetime, *, verdict: bool | None, source=AlarmSource.PREDICTION):
    ticket = Ticket(
        machine_id=machine,
        code="PRED_FAILURE",
        title="t",
        priority=Priority.CRITICAL,
        status=TicketStatus.RESOLVED if verdict is not None else TicketStatus.OPEN,
        created_at=at,
        started_at=at + timedelta(minutes=30),
        failure_confirmed=verdict,
    )
    s.add(ticket)
    s.flush()
    s.add(
        Alarm(
            machine_id=machine,
            code="PRED_FAILURE" if source == AlarmSource.PREDICTION else "ANOMALY",
            severity=Severity.CRITICAL,
            source=source,
            message="m",
            raised_at=at,
            last_seen_at=at,
            ticket_id=ticket.id,
        )
    )
    return ticket


def test_precision_recall_and_lead_equal_a_hand_count(db, tmp_path):
    seed_demo(make_settings(tmp_path, demo_machines=6), db)
    with db.session() as s:
        pumps = s.scalars(select(Machine.id).where(Machine.type == "pump")).all()
        p1, p2 = pumps[0], pumps[1]
        day = NOW - timedelta(days=1)
        # 4 confirmed of 6 verdicts in 30 days (one alarm without a verdict: not counted)
        confirmed = [_alarm(s, p1, day - timedelta(days=d), verdict=True) for d in (1, 3, 5, 7)]
        for d in (2, 4):
            _alarm(s, p2, day - timedelta(days=d), verdict=False)
        _alarm(s, p2, day, verdict=None)
        # 60 days ago: only in the 90-day figures
        _alarm(s, p1, NOW - timedelta(days=60), verdict=False)
        # two anomaly warnings
        for d in (1, 2):
            _alarm(
                s, p1, day - timedelta(days=d, hours=1), verdict=None, source=AlarmSource.ANOMALY
            )
        # failures: the 4 confirmed tickets (two recorded as breakdowns, seen once) + one
        # breakdown nobody predicted
        for t in confirmed[:2]:
            s.add(
                Downtime(
                    machine_id=p1,
                    kind=DowntimeKind.BREAKDOWN,
                    ticket_id=t.id,
                    started_at=t.created_at + timedelta(hours=2),
                )
            )
        s.add(
            Downtime(machine_id=p2, kind=DowntimeKind.BREAKDOWN, started_at=day - timedelta(days=9))
        )
        s.add(Downtime(machine_id=p2, kind=DowntimeKind.PLANNED, started_at=day))  # not a failure
    with db.session() as s:
        q30 = {
            q.machine_type: q
            for q in realised_quality(session=s, now=NOW, days=30, horizon=H, min_labels=5)
        }
        q90 = {
            q.machine_type: q
            for q in realised_quality(session=s, now=NOW, days=90, horizon=H, min_labels=5)
        }
        few = {
            q.machine_type: q
            for q in realised_quality(session=s, now=NOW, days=30, horizon=H, min_labels=7)
        }
    pump = q30["pump"]
    assert (pump.alarms, pump.confirmed, pump.false_alarms) == (7, 4, 2)
    assert pump.precision == 4 / 6
    assert (pump.failures, pump.caught) == (5, 4)
    assert pump.recall == 4 / 5
    assert pump.lead_h is None  # 4 leads < 5 labels
    assert pump.anomaly_alarms == 2
    assert pump.anomaly_per_machine_week == 2 / (2 * 30 / 7)
    assert q90["pump"].false_alarms == 3 and q90["pump"].precision == 4 / 7
    assert few["pump"].precision is None and few["pump"].recall is None  # too few labels
    assert q30["motor"].alarms == 0 and q30["motor"].precision is None
