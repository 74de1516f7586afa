"""What the ticket detail page shows: the ticket, the alarm (and prediction) that opened it
and the alarms that joined it, the readings around it, its SOP checklist, its comments and its
history from the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.machine_series import SensorInfo, machine_sensors, sensor_history
from data.models import (
    Alarm,
    AlarmSource,
    AuditLog,
    Prediction,
    Priority,
    Role,
    Sop,
    Ticket,
    TicketComment,
    TicketStatus,
    User,
    utcnow,
)
from maintenance.alarming.raise_clear import AlarmNumbers, alarm_reading, latest_numbers
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.procedures.sop_text import parse_sop
from maintenance.repair.ticket_work import checklist_version, done_steps
from maintenance.ticketing.ticket_flow import may_change

__all__ = [
    "AlarmInfo",
    "PredictionInfo",
    "Checklist",
    "TicketDetail",
    "CommentRow",
    "HistoryRow",
    "ReadingsWindow",
    "ticket_detail",
    "ticket_activity",
    "readings_around",
]


@dataclass(frozen=True, slots=True)
class AlarmInfo:
    code: str
    severity: str
    source: str
    message: str
    value: float | None
    raised_at: datetime
    cleared_at: datetime | None
    reading: str = ""  # the latest number and the limit it crossed
    raised_reading: str = ""  # the number when raised ("" for alarms older than 0012)


@dataclass(frozen=True, slots=True)
class PredictionInfo:
    ts: datetime
    failure_probability: float | None
    anomaly_score: float | None
    rul_hours: float | None
    top_sensors: list[str]


@dataclass(frozen=True, slots=True)
class Checklist:
    title: str
    version_id: int
    version: int
    current_version: int
    steps: list[str]
    before: str  # Markdown: safety notes, tools
    after: str  # Markdown: expected readings
    done: list[int]


@dataclass(frozen=True, slots=True)
class TicketDetail:
    id: int
    machine: str
    code: str
    title: str
    priority: Priority
    status: TicketStatus
    technician: str | None
    assignment_reason: str
    created_at: datetime
    resolution: str  # a free note (tickets resolved before cause and action were asked)
    failure_confirmed: bool | None
    alarm: AlarmInfo | None
    prediction: PredictionInfo | None
    joined: list[AlarmInfo]  # later alarms of the same machine that joined this ticket
    checklist: Checklist | None
    may_work: bool  # tick steps and change status (the viewing user)
    may_comment: bool
    cause: str = ""
    action_taken: str = ""


@dataclass(frozen=True, slots=True)
class CommentRow:
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryRow:
    ts: datetime
    who: str
    kind: str  # open | escalate | status | step | comment
    text: str


@dataclass(frozen=True, slots=True)
class ReadingsWindow:
    sensors: list[SensorInfo]
    frame: pd.DataFrame  # sensor_id, ts, mean, lo, hi, n
    start: datetime
    end: datetime
    mark: datetime  # when the alarm was raised (or the ticket opened)
    sensor_id: int | None  # the sensor that raised the alarm


_MODELS = (AlarmSource.PREDICTION, AlarmSource.ANOMALY)
_VERDICT: dict[object, str] = {True: ", real failure", False: ", false alarm"}


def ticket_detail(*, session: Session, ticket_id: int, user: UserInfo) -> TicketDetail | None:
    """Everything about one ticket the page shows, for ``user``; None if there is no such."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    alarm = session.get(Alarm, ticket.alarm_id) if ticket.alarm_id else None
    joined = session.scalars(
        select(Alarm)
        .where(Alarm.ticket_id == ticket.id, Alarm.id != (ticket.alarm_id or 0))
        .order_by(Alarm.raised_at, Alarm.id)
        .limit(50)
    ).all()
    prediction = None
    if any(a.source in _MODELS for a in [*joined, *([alarm] if alarm else [])]):
        prediction = _latest_prediction(session, ticket.machine_id)
    may_work = allowed(user.role, Action.TICKET_WORK) and may_change(ticket=ticket, user=user)
    return TicketDetail(
        id=ticket.id,
        machine=ticket.machine.name,
        code=ticket.code,
        title=ticket.title,
        priority=ticket.priority,
        status=ticket.status,
        technician=ticket.technician.username if ticket.technician else None,
        assignment_reason=ticket.assignment_reason,
        created_at=ticket.created_at,
        resolution=ticket.resolution,
        failure_confirmed=ticket.failure_confirmed,
        alarm=_alarm_info(alarm) if alarm else None,
        prediction=prediction,
        joined=[_alarm_info(a) for a in joined],
        checklist=_checklist(session, ticket),
        may_work=may_work,
        may_comment=allowed(user.role, Action.TICKET_COMMENT)
        and (may_work or user.role is Role.ENGINEER),
        cause=ticket.cause,
        action_taken=ticket.action_taken,
    )


def _alarm_info(a: Alarm) -> AlarmInfo:
    return AlarmInfo(
        a.code,
        a.severity.value,
        a.source.value,
        a.message,
        a.value,
        a.raised_at,
        a.cleared_at,
        alarm_reading(latest_numbers(a), source=a.source.value),
        alarm_reading(AlarmNumbers(a.raised_value, unit=a.unit), source=a.source.value),
    )


def _latest_prediction(session: Session, machine_id: int) -> PredictionInfo | None:
    p = session.scalar(
        select(Prediction)
        .where(Prediction.machine_id == machine_id)
        .order_by(Prediction.id.desc())
        .limit(1)
    )
    if p is None:
        return None
    return PredictionInfo(
        p.ts, p.failure_probability, p.anomaly_score, p.rul_hours, list(p.top_sensors)
    )


def _checklist(session: Session, ticket: Ticket) -> Checklist | None:
    version = checklist_version(session=session, ticket=ticket)
    if version is None:
        return None
    current = session.scalar(select(Sop.current_version).where(Sop.id == version.sop_id))
    parsed = parse_sop(version.body)
    return Checklist(
        title=version.title,
        version_id=version.id,
        version=version.version,
        current_version=current or version.version,
        steps=list(version.steps),
        before=parsed.before,
        after=parsed.after,
        done=sorted(done_steps(session=session, ticket_id=ticket.id, sop_version_id=version.id)),
    )


def ticket_activity(
    *, session: Session, ticket_id: int
) -> tuple[list[CommentRow], list[HistoryRow]]:
    """The ticket's comments, oldest first, and its history from the audit log, newest first."""
    comments = [
        CommentRow(name or "?", c.body, c.created_at)
        for c, name in session.execute(
            select(TicketComment, User.username)
            .outerjoin(User, User.id == TicketComment.user_id)
            .where(TicketComment.ticket_id == ticket_id)
            .order_by(TicketComment.created_at, TicketComment.id)
        )
    ]
    history = [
        HistoryRow(a.ts, name or "system", a.action.removeprefix("ticket."), _describe(a))
        for a, name in session.execute(
            select(AuditLog, User.username)
            .outerjoin(User, User.id == AuditLog.user_id)
            .where(AuditLog.entity == "ticket", AuditLog.entity_id == str(ticket_id))
            .order_by(AuditLog.ts.desc(), AuditLog.id.desc())
            .limit(500)
        )
    ]
    return comments, history


def _describe(a: AuditLog) -> str:
    before, after = a.before or {}, a.after or {}
    if a.action == "ticket.open":
        return f"Opened with priority {after.get('priority', '?')}, {after.get('reason', '')}"
    if a.action == "ticket.escalate" and "priority" in after:
        return f"Priority raised from {before.get('priority')} to {after.get('priority')}"
    if a.action == "ticket.status":
        verdict = _VERDICT.get(after.get("failure_confirmed"), "")
        old, new = (str(x.get("status", "?")).replace("_", " ") for x in (before, after))
        found = "".join(
            f" · {label}: {after[key]}"
            for key, label in (("cause", "cause"), ("action_taken", "action"))
            if after.get(key)
        )
        return f"Status {old} → {new}{verdict}{found}"
    if a.action == "ticket.step":
        verb = "Ticked" if after.get("done") else "Unticked"
        return f"{verb} step {after.get('step')}: {after.get('text', '')}"
    if a.action == "ticket.comment":
        return f"Commented: “{after.get('preview', '')}”"
    if a.action == "ticket.attach":
        return f"Attached {after.get('filename', 'a file')}"
    if a.action == "ticket.alarm":
        return f"Joined by alarm {after.get('code', '?')}: {after.get('message', '')}"
    if a.action == "ticket.part":
        return f"Used {after.get('quantity')} × {after.get('part')} from stock"
    return str(after.get("text") or a.action)  # escalations, reassignments


def readings_around(
    *,
    session: Session,
    ticket_id: int,
    before: timedelta = timedelta(hours=2),
    after: timedelta = timedelta(hours=2),
) -> ReadingsWindow | None:
    """The machine's readings in the hours around the alarm that opened the ticket."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    alarm = session.get(Alarm, ticket.alarm_id) if ticket.alarm_id else None
    mark = alarm.raised_at if alarm else ticket.created_at
    start, end = mark - before, min(mark + after, utcnow())
    sensors = machine_sensors(session=session, machine_id=ticket.machine_id)
    frame = sensor_history(
        session=session, sensor_ids=[s.id for s in sensors], start=start, end=end, max_points=240
    )
    return ReadingsWindow(sensors, frame, start, end, mark, alarm.sensor_id if alarm else None)
