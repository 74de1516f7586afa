"""The closed loop's labels: what technicians and managers said about real machines.

- A ticket resolved as **real failure** (``tickets.failure_confirmed = true``) is a failure of
  its machine at the start of the breakdown the resolution recorded, else when work started
  on it (else when it was resolved).
- A ticket resolved as **false alarm** (``failure_confirmed = false``) says the machine was
  healthy when the ticket was opened: the windows just before are negatives, whatever a
  model believed.
- A **breakdown** in the downtime table (recorded by a resolution, by a manager, detected from
  the rpm or backfilled) is a failure at its start, repaired at its end.

Training weights the windows a verdict speaks about more than the rest (``verdict_weight``):
a technician who looked at the machine knows better than a threshold on rpm.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from data.models import Downtime, DowntimeKind, Machine, Ticket

__all__ = ["verdicts", "breakdowns", "new_labels_since", "VERDICT_COLUMNS"]

VERDICT_COLUMNS = ["unit", "time", "confirmed", "ticket_id"]


def verdicts(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    machines: list[str] | None = None,
) -> pd.DataFrame:
    """Technicians' verdicts: unit, time (UTC), confirmed (bool), ticket_id."""
    breakdown_start = (
        select(func.min(Downtime.started_at))
        .where(Downtime.ticket_id == Ticket.id, Downtime.kind == DowntimeKind.BREAKDOWN)
        .scalar_subquery()
    )
    stmt = (
        select(
            Machine.name,
            Ticket.failure_confirmed,
            Ticket.id,
            Ticket.created_at,
            Ticket.started_at,
            Ticket.resolved_at,
            breakdown_start,
        )
        .join(Machine, Machine.id == Ticket.machine_id)
        .where(Ticket.failure_confirmed.is_not(None))
    )
    stmt = _within(stmt, Ticket.created_at, since, until, machines)
    rows = [
        (
            name,
            (stopped or started or resolved or created) if confirmed else created,
            confirmed,
            tid,
        )
        for name, confirmed, tid, created, started, resolved, stopped in session.execute(stmt)
    ]
    frame = pd.DataFrame(rows, columns=VERDICT_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values("time").reset_index(drop=True)


def breakdowns(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    machines: list[str] | None = None,
) -> pd.DataFrame:
    """Recorded breakdowns: unit, failure, repaired (UTC; repaired = failure while still
    down), source."""
    stmt = (
        select(Machine.name, Downtime.started_at, Downtime.ended_at, Downtime.source)
        .join(Machine, Machine.id == Downtime.machine_id)
        .where(Downtime.kind == DowntimeKind.BREAKDOWN)
    )
    stmt = _within(stmt, Downtime.started_at, since, until, machines)
    frame = pd.DataFrame(
        [(n, s, e or s, src) for n, s, e, src in session.execute(stmt)],
        columns=["unit", "failure", "repaired", "source"],
    )
    for column in ("failure", "repaired"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.sort_values("failure").reset_index(drop=True)


def new_labels_since(*, session: Session, since: datetime | None) -> dict[str, int]:
    """Labels people gave after ``since`` (the active model's training): technicians'
    verdicts split by answer, and breakdowns recorded by hand or by a resolution."""
    verdict = select(Ticket.failure_confirmed, func.count()).where(
        Ticket.failure_confirmed.is_not(None)
    )
    recorded = select(func.count()).where(
        Downtime.kind == DowntimeKind.BREAKDOWN, Downtime.source.in_(("ticket", "manual"))
    )
    if since is not None:
        verdict = verdict.where(func.coalesce(Ticket.resolved_at, Ticket.created_at) > since)
        recorded = recorded.where(Downtime.created_at > since)
    answers = dict(session.execute(verdict.group_by(Ticket.failure_confirmed)).all())
    confirmed, false_alarms = int(answers.get(True, 0)), int(answers.get(False, 0))
    downtime = int(session.scalar(recorded.select_from(Downtime)) or 0)
    return {
        "confirmed": confirmed,
        "false_alarms": false_alarms,
        "breakdowns": downtime,
        "total": confirmed + false_alarms + downtime,
    }


def _within(
    stmt: Select,
    when: Any,
    since: datetime | None,
    until: datetime | None,
    machines: list[str] | None,
) -> Select:
    """``stmt`` limited to ``since <= when <= until`` and to the named machines."""
    if since is not None:
        stmt = stmt.where(when >= since)
    if until is not None:
        stmt = stmt.where(when <= until)
    if machines:
        stmt = stmt.where(Machine.name.in_(machines))
    return stmt
