"""Stops seen in the data: a machine whose rpm falls to (almost) zero is down until it runs
again. A stop during a maintenance window is planned; any other is a breakdown. A
technician's resolution later corrects the period (see ``tickets._record_breakdown``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Downtime, DowntimeKind, Machine, Reading, Sensor
from maintenance.machine_status.maintenance_windows import is_silenced

__all__ = ["STOPPED_FRACTION", "StopOutcome", "detected_stop", "track_stops"]

STOPPED_FRACTION = 0.05  # below 5 % of its lowest normal rpm a machine is not running


@dataclass(slots=True)
class StopOutcome:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


def track_stops(*, session: Session, now: datetime, window: timedelta) -> StopOutcome:
    """Open a downtime period for machines that stopped, close it for those running again.
    Machines without recent rpm readings are left as they are (no data is not a stop)."""
    outcome = StopOutcome()
    rpm: dict[int, float] = dict(
        session.execute(
            select(Sensor.machine_id, func.avg(Reading.value))
            .join(Sensor, Sensor.id == Reading.sensor_id)
            .join(Machine, Machine.id == Sensor.machine_id)
            .where(
                Sensor.kind == "rpm",
                Reading.ts >= now - window,
                Reading.ts <= now,
                Machine.retired_at.is_(None),
            )
            .group_by(Sensor.machine_id)
        ).all()
    )
    if not rpm:
        return outcome
    floors = {
        machine_id: STOPPED_FRACTION * (low or 0.0)
        for machine_id, low in session.execute(
            select(Sensor.machine_id, func.coalesce(Sensor.warn_low, Sensor.crit_low)).where(
                Sensor.kind == "rpm", Sensor.machine_id.in_(list(rpm))
            )
        )
    }
    open_periods = {
        d.machine_id: d
        for d in session.scalars(
            select(Downtime).where(Downtime.ended_at.is_(None), Downtime.machine_id.in_(list(rpm)))
        )
    }
    for machine_id, mean in rpm.items():
        stopped = mean <= max(floors.get(machine_id, 0.0), 1.0)
        period = open_periods.get(machine_id)
        if stopped and period is None:
            planned = is_silenced(session=session, machine_id=machine_id, now=now)
            period = Downtime(
                machine_id=machine_id,
                kind=DowntimeKind.PLANNED if planned else DowntimeKind.BREAKDOWN,
                started_at=now - window / 2,  # the mean fell below the floor mid-window
                source="detected",
                note="rpm fell to zero",
            )
            session.add(period)
            session.flush()
            outcome.opened.append(period.id)
        elif not stopped and period is not None and period.source == "detected":
            period.ended_at = now - window / 2
            outcome.closed.append(period.id)
    return outcome


# a stop seen up to this long before a ticket opened is the ticket's (the rpm alarm that
# opens a ticket comes a little after the stop it reports)
_BEFORE_TICKET = timedelta(hours=1)


def detected_stop(
    *, session: Session, machine_id: int, since: datetime
) -> tuple[datetime, datetime | None] | None:
    """The latest stop seen in the data of ``machine_id`` that began after ``since`` (less
    an hour) or is still going on: (stopped, ran again or None); None when there is none.
    The resolve dialog proposes it as the ticket's downtime."""
    period = session.scalar(
        select(Downtime)
        .where(
            Downtime.machine_id == machine_id,
            Downtime.source == "detected",
            Downtime.kind == DowntimeKind.BREAKDOWN,
            (Downtime.started_at >= since - _BEFORE_TICKET) | Downtime.ended_at.is_(None),
        )
        .order_by(Downtime.started_at.desc())
        .limit(1)
    )
    return (period.started_at, period.ended_at) if period is not None else None
