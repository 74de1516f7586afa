"""Preventive maintenance plans: by calendar (every N days) or by usage (every N running
hours from the machine's rpm readings), opening planned tickets ahead of their due date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import (
    AuditLog,
    Machine,
    MaintenancePlan,
    PlanProgress,
    Priority,
    Sop,
    Ticket,
    TicketStatus,
)
from maintenance.machine_status.running_hours import next_calendar_due, progress_of, running_hours
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.procedures.sop_text import SopError, check_code
from maintenance.ticketing.ticket_flow import open_ticket

__all__ = [
    "PlanError",
    "PlanDue",
    "create_plan",
    "set_active",
    "due_plans",
    "open_planned_tickets",
    "machine_choices",
]

RATE_WINDOW = timedelta(days=7)  # the recent running rate that projects a usage due date


class PlanError(ValueError):
    """Bad plan data; ``field`` names the input the message belongs next to, ``messages``
    has one message per refused input."""

    def __init__(self, message: str, field: str = "", others: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.messages = {field: message, **(others or {})}


@dataclass(frozen=True, slots=True)
class PlanDue:
    plan_id: int
    plan: str
    code: str
    machine_id: int
    machine: str
    every: str
    last_done_at: datetime | None
    hours_since: float | None  # usage plans: running hours since the last completion
    due_at: datetime | None  # None: a usage plan on a machine that has not run lately
    lead_days: float
    active: bool


def _positive(value: object, field: str, label: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        n = float(str(value))
    except ValueError:
        raise PlanError(f"{label} must be a number.", field) from None
    if not n > 0:
        raise PlanError(f"{label} must be more than 0.", field)
    return n


def _plan_name(session: Session, name: str) -> None:
    if not name or len(name) > 200:
        raise PlanError("A name is required (at most 200 characters).", "name")
    taken = select(MaintenancePlan.id).where(func.lower(MaintenancePlan.name) == name.lower())
    if session.scalar(taken) is not None:
        raise PlanError(f"A plan named {name} exists already: choose another name.", "name")


def _plan_code(session: Session, code: str) -> str:
    try:
        code = check_code(code)
    except SopError as exc:
        raise PlanError(f"SOP code: {exc}", "code") from None
    if session.scalar(select(Sop.id).where(Sop.code == code)) is None:
        raise PlanError(f"There is no SOP {code}: pick one from the list.", "code")
    return code


def _target(session: Session, machine_id: int | None, machine_type: str | None) -> None:
    if (machine_id is None) == (machine_type is None):
        raise PlanError("Choose either one machine or a machine type.", "target")
    if machine_id is not None and session.get(Machine, machine_id) is None:
        raise PlanError("That machine does not exist.", "target")
    if machine_type is not None:
        known = select(Machine.id).where(Machine.type == machine_type).limit(1)
        if session.scalar(known) is None:
            raise PlanError(f"No machine of type {machine_type} in the fleet.", "target")


def _every(every_days: object, every_running_hours: object) -> tuple[float | None, float | None]:
    days = _positive(every_days, "every", "Every N days")
    hours = _positive(every_running_hours, "every", "Every N running hours")
    if (days is None) == (hours is None):
        raise PlanError("Give either every N days or every N running hours.", "every")
    return days, hours


def create_plan(
    *,
    session: Session,
    user: UserInfo,
    name: str,
    code: str,
    machine_id: int | None = None,
    machine_type: str | None = None,
    every_days: object = None,
    every_running_hours: object = None,
    lead_days: object = 3,
) -> int:
    """Create a plan: exactly one of machine/type and one of days/running hours, an SOP of
    the library and a name no other plan has. Every field is checked before any refusal:
    ``PlanError.messages`` has one message per bad field."""
    if not allowed(user.role, Action.PLAN_EDIT):
        raise PlanError("Only managers, engineers and admins may plan maintenance.")
    name, code = (name or "").strip(), (code or "").strip().upper()
    machine_type = (machine_type or "").strip() or None
    refused: dict[str, str] = {}

    def check(field: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except PlanError as exc:
            refused.setdefault(field, str(exc))
            return None

    check("name", lambda: _plan_name(session, name))
    sop_code: str = check("code", lambda: _plan_code(session, code))
    check("target", lambda: _target(session, machine_id, machine_type))
    every: tuple[float | None, float | None] | None = check(
        "every", lambda: _every(every_days, every_running_hours)
    )
    lead: float | None = (
        check("lead", lambda: _positive(lead_days, "lead", "Lead days"))
        if lead_days not in (0, "0")
        else 0.0
    )
    if refused:
        # the text says every refusal (logs, a plain message); ``messages`` has each one
        raise PlanError(" ".join(refused.values()), next(iter(refused)), refused)
    days, hours = every or (None, None)
    plan = MaintenancePlan(
        name=name,
        code=sop_code,
        machine_id=machine_id,
        machine_type=machine_type,
        every_days=days,
        every_running_hours=hours,
        lead_days=lead or 0.0,
        created_by=user.id,
    )
    session.add(plan)
    session.flush()
    _audit(session, user.id, "plan.create", plan, {"name": name, "code": sop_code})
    return plan.id


def set_active(*, session: Session, user: UserInfo, plan_id: int, active: bool) -> None:
    """Deactivate (or reactivate) a plan; audited."""
    if not allowed(user.role, Action.PLAN_EDIT):
        raise PlanError("Only managers, engineers and admins may change plans.")
    plan = session.get(MaintenancePlan, plan_id)
    if plan is None:
        raise PlanError(f"Plan #{plan_id} does not exist.")
    plan.active = active
    _audit(session, user.id, "plan.active", plan, {"active": active})


def _audit(session: Session, user_id: int, action: str, plan: MaintenancePlan, after: dict) -> None:
    session.add(
        AuditLog(user_id=user_id, action=action, entity="plan", entity_id=str(plan.id), after=after)
    )


def _machines(session: Session, plan: MaintenancePlan) -> list[Machine]:
    stmt = select(Machine).where(Machine.retired_at.is_(None)).order_by(Machine.name)
    if plan.machine_id is not None:
        return list(session.scalars(stmt.where(Machine.id == plan.machine_id)))
    return list(session.scalars(stmt.where(Machine.type == plan.machine_type)))


def _usage_due(
    session: Session, plan: MaintenancePlan, machine_id: int, since: datetime, now: datetime
) -> tuple[float, datetime | None]:
    hours = running_hours(session=session, machine_id=machine_id, since=since, until=now)
    left = (plan.every_running_hours or 0.0) - hours
    if left <= 0:
        return hours, now
    recent_start = max(since, now - RATE_WINDOW)
    recent = running_hours(session=session, machine_id=machine_id, since=recent_start, until=now)
    span_h = (now - recent_start).total_seconds() / 3600
    if recent <= 0 or span_h <= 0:
        return hours, None  # not running lately: no projection
    return hours, now + timedelta(hours=left * span_h / recent)


def due_plans(
    session: Session, now: datetime, *, include_inactive: bool = False, store: bool = True
) -> list[PlanDue]:
    """Each (plan, machine) with its next due date; stored in plan_progress when ``store``
    (the worker), only read for the plans page."""
    stmt = select(MaintenancePlan).order_by(MaintenancePlan.name, MaintenancePlan.id)
    if not include_inactive:
        stmt = stmt.where(MaintenancePlan.active.is_(True))
    out = []
    for plan in session.scalars(stmt).all():
        for machine in _machines(session, plan):
            progress = _progress(session, plan.id, machine.id, store)
            since = progress.last_done_at or plan.created_at
            hours = None
            if plan.every_days is not None:
                due = next_calendar_due(plan, since)
                every = f"every {plan.every_days:g} days"
            else:
                hours, due = _usage_due(session, plan, machine.id, since, now)
                every = f"every {plan.every_running_hours:g} running hours"
            if store:
                progress.next_due_at = due
            out.append(
                PlanDue(
                    plan.id,
                    plan.name,
                    plan.code,
                    machine.id,
                    machine.name,
                    every,
                    progress.last_done_at,
                    hours,
                    due,
                    plan.lead_days,
                    plan.active,
                )
            )
    session.flush()
    return out


def _progress(session: Session, plan_id: int, machine_id: int, store: bool) -> PlanProgress:
    if store:
        return progress_of(session, plan_id, machine_id)
    found = session.scalar(
        select(PlanProgress).where(
            PlanProgress.plan_id == plan_id, PlanProgress.machine_id == machine_id
        )
    )
    return found or PlanProgress(plan_id=plan_id, machine_id=machine_id)


def machine_choices(session: Session) -> list[tuple[int, str, str]]:
    """Machines in service as (id, name, type), for the plan form."""
    return [
        (m.id, m.name, m.type)
        for m in session.scalars(
            select(Machine).where(Machine.retired_at.is_(None)).order_by(Machine.name)
        )
    ]


def _has_open(session: Session, plan_id: int, machine_id: int) -> bool:
    return (
        session.scalar(
            select(Ticket.id).where(
                Ticket.plan_id == plan_id,
                Ticket.machine_id == machine_id,
                Ticket.status != TicketStatus.RESOLVED,
            )
        )
        is not None
    )


def open_planned_tickets(session: Session, now: datetime) -> list[int]:
    """Open a LOW planned ticket for each (plan, machine) within its lead time of the due
    date, unless one is already open for that plan and machine; returns their ids."""
    opened = []
    for d in due_plans(session, now):
        if d.due_at is None or now < d.due_at - timedelta(days=d.lead_days):
            continue
        if _has_open(session, d.plan_id, d.machine_id):
            continue
        ticket = open_ticket(
            session=session,
            machine_id=d.machine_id,
            code=d.code,
            title=f"Planned: {d.plan}",
            priority=Priority.LOW,
            plan_id=d.plan_id,
            due_at=d.due_at,
        )
        if ticket is not None:
            opened.append(ticket.id)
    return opened
