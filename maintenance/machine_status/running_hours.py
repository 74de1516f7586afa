"""Running hours from a machine's own rpm readings, and recording a planned ticket's
completion so the next due date counts from it (not from the old schedule)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from data.models import MaintenancePlan, PlanProgress, Reading, Sensor, Ticket
from maintenance.machine_status.downtime import STOPPED_FRACTION

__all__ = ["running_hours", "record_completion", "next_calendar_due"]


def _minute(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.date_trunc("minute", Reading.ts)
    # SQLite keeps timestamps as text 'YYYY-MM-DD HH:MM:SS.ffffff': the minute is a prefix
    return func.substr(Reading.ts, 1, 16)


def running_hours(*, session: Session, machine_id: int, since: datetime, until: datetime) -> float:
    """Hours the machine ran in [since, until): minutes whose mean rpm is above the stop
    floor (5 % of the rpm sensor's lowest normal value, at least 1 rpm)."""
    sensor = session.execute(
        select(Sensor.id, func.coalesce(Sensor.warn_low, Sensor.crit_low))
        .where(Sensor.machine_id == machine_id, Sensor.kind == "rpm")
        .order_by(Sensor.id)
        .limit(1)
    ).first()
    if sensor is None or until <= since:
        return 0.0
    floor = max(STOPPED_FRACTION * (sensor[1] or 0.0), 1.0)
    minute = _minute(session.get_bind().dialect.name)
    running = (
        select(minute.label("m"))
        .where(Reading.sensor_id == sensor[0], Reading.ts >= since, Reading.ts < until)
        .group_by(minute)
        .having(func.avg(Reading.value) > floor)
        .subquery()
    )
    minutes = session.scalar(select(func.count()).select_from(running)) or 0
    return minutes / 60.0


def next_calendar_due(plan: MaintenancePlan, last_done: datetime) -> datetime | None:
    """A calendar plan's next due date: the last completion plus its interval."""
    if plan.every_days is None:
        return None
    return last_done + timedelta(days=plan.every_days)


def progress_of(session: Session, plan_id: int, machine_id: int) -> PlanProgress:
    """The (plan, machine) progress row, created empty when missing."""
    row = session.scalar(
        select(PlanProgress).where(
            PlanProgress.plan_id == plan_id, PlanProgress.machine_id == machine_id
        )
    )
    if row is None:
        row = PlanProgress(plan_id=plan_id, machine_id=machine_id, running_hours_at_last=0.0)
        session.add(row)
    return row


def record_completion(session: Session, ticket: Ticket) -> None:
    """A planned ticket was resolved: the plan's clock restarts at the resolution, so an
    early completion moves the next due date earlier. ``running_hours_at_last`` keeps the
    hours the machine ran in the cycle just completed."""
    plan = session.get(MaintenancePlan, ticket.plan_id) if ticket.plan_id else None
    if plan is None or ticket.resolved_at is None:
        return
    progress = progress_of(session, plan.id, ticket.machine_id)
    previous = progress.last_done_at or plan.created_at
    done = ticket.resolved_at
    progress.running_hours_at_last = running_hours(
        session=session, machine_id=ticket.machine_id, since=previous, until=done
    )
    progress.last_done_at = done
    progress.next_due_at = next_calendar_due(plan, done)
    session.flush()
