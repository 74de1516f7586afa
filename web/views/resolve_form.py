"""The resolve dialog's answers: checked field by field the way a person reads them, then
resolved in one transaction (``maintenance.resolution``); and the other status changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import no_update

from data.db import Database
from data.models import Ticket, TicketStatus
from maintenance.alarms import still_active
from maintenance.parts import PartError
from maintenance.permissions import Action
from maintenance.resolution import resolve_ticket
from maintenance.tickets import TransitionError, change_status
from web.server.auth import AccessDenied, require
from web.views.resolve_dialog import still_alarming

__all__ = [
    "Answers",
    "ResolveForm",
    "check_form",
    "messages",
    "submit_resolution",
    "transition",
    "error_alert",
    "local",
    "dialog_opening",
]

_MIN_TEXT = 3


@dataclass(frozen=True, slots=True)
class Answers:
    """The dialog's values as the browser sends them, in the order of ``answer_states``."""

    outcome: str | None = None
    cause: str | None = None
    action: str | None = None
    stopped: str | None = None
    running: str | None = None
    part_ids: list = field(default_factory=list)  # one per parts row
    quantities: list = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResolveForm:
    """The answers, checked: a message per field (empty: fine), or what to resolve with."""

    failure: bool
    cause: str
    action: str
    parts: list[tuple[int, int]]  # part id, quantity
    downtime: tuple[datetime, datetime] | None
    errors: dict[str, str]  # cause, action, outcome, down_start, down_end, parts

    @property
    def ok(self) -> bool:
        return not any(self.errors.values())


def local(t: datetime) -> str:
    """The value a datetime-local input shows: UTC, to the minute."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _parse_when(value: str | None, *, required: bool) -> tuple[datetime | None, str]:
    if not value:
        return None, ("Required for a real failure." if required else "")
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC), ""
    except ValueError:
        return None, "Use a date and time, e.g. 2026-11-23 14:30."


def _text(value: str | None, what: str) -> tuple[str, str]:
    text = (value or "").strip()
    return text, "" if len(text) >= _MIN_TEXT else f"Describe the {what} (at least 3 characters)."


def _parts(part_ids: list, quantities: list) -> tuple[list[tuple[int, int]], str]:
    """Rows with a part chosen; a row without one is left out."""
    items = []
    for part, qty in zip(part_ids, quantities, strict=False):
        if not part:
            continue
        try:
            n = int(str(qty).strip())
            items.append((int(part), n))
        except ValueError:
            n = 0
        if n < 1:
            return [], "Give each part used a whole quantity of at least 1."
    return items, ""


def check_form(a: Answers) -> ResolveForm:
    """Check every field at once, so each message shows next to its field."""
    cause, cause_error = _text(a.cause, "cause")
    action, action_error = _text(a.action, "action taken")
    failure = a.outcome == "failure"
    start, start_error = _parse_when(a.stopped, required=failure)
    end, end_error = _parse_when(a.running, required=failure)
    if start and end and end < start:
        end_error = "Must be after the machine stopped."
    parts, parts_error = _parts(a.part_ids or [], a.quantities or [])
    errors = {
        "cause": cause_error,
        "action": action_error,
        "outcome": "" if a.outcome in ("failure", "false_alarm") else "Choose an outcome.",
        "down_start": start_error,
        "down_end": end_error,
        "parts": parts_error,
    }
    downtime = (start, end) if failure and start and end else None
    return ResolveForm(failure, cause, action, parts, downtime, errors)


def messages(errors: dict[str, str], alert: object = None) -> tuple:
    """The dialog's message outputs, in the order of ``resolve_dialog.message_outputs``."""
    marks = [
        x for f in ("cause", "action", "down_start", "down_end") for x in _mark(errors.get(f, ""))
    ]
    return *marks, errors.get("outcome", ""), errors.get("parts", ""), alert


def _mark(message: str) -> tuple[bool, str]:
    return bool(message), message


def submit_resolution(
    db: Database,
    ticket_id: int | None,
    refresh: int | None,
    answers: Answers,
    *,
    element: str,
) -> tuple:
    """The dialog's Resolve button, for both ticket pages: role first, then every field's
    message at once, then the resolution with its parts, all or nothing. The result fills
    (page feedback, refresh, modal open, *messages)."""
    try:
        user = require(Action.TICKET_WORK)
    except AccessDenied as exc:
        return error_alert(str(exc), f"{element}-error"), no_update, False, *messages({})
    form = check_form(answers)
    if not form.ok or not ticket_id:  # the dialog stays as it is (no_update: its rows too)
        return no_update, no_update, no_update, *messages(form.errors)
    try:
        with db.session() as s:
            resolve_ticket(
                session=s,
                ticket_id=int(ticket_id),
                user=user,
                failure_confirmed=form.failure,
                cause=form.cause,
                action_taken=form.action,
                parts=form.parts,
                downtime=form.downtime,
            )
    except (TransitionError, PartError) as exc:  # rolled back: nothing used, nothing stored
        if getattr(exc, "field", ""):
            return no_update, no_update, no_update, *messages({"parts": str(exc)})
        alert = error_alert(str(exc), f"{element}-resolve-error")
        return no_update, no_update, no_update, *messages({}, alert)
    done = _done(int(ticket_id), TicketStatus.RESOLVED, element)
    return done, (refresh or 0) + 1, False, *messages({})


def transition(db: Database, ticket_id: int, to: TicketStatus, *, element: str) -> dbc.Alert:
    """Start, put back or reopen for the current user (role checked here, on the server),
    and how it went as an alert with id ``<element>-ok`` or ``<element>-error``."""
    try:
        user = require(Action.TICKET_WORK)
        with db.session() as s:
            change_status(session=s, ticket_id=ticket_id, to=to, user=user)
    except (TransitionError, AccessDenied) as exc:
        return error_alert(str(exc), f"{element}-error")
    return _done(ticket_id, to, element)


def _done(ticket_id: int, to: TicketStatus, element: str) -> dbc.Alert:
    label = to.value.replace("_", " ")
    return dbc.Alert(
        f"Ticket #{ticket_id} is now {label}.",
        color="success",
        duration=4000,
        dismissable=True,
        id=f"{element}-ok",
    )


def error_alert(text: str, element_id: str) -> dbc.Alert:
    return dbc.Alert(text, color="danger", dismissable=True, id=element_id, className="mt-2")


def dialog_opening(db: Database, ticket_id: int) -> tuple[str, str, str, object]:
    """What the resolve dialog opens with: its title, the proposed stop (ticket opened ..
    now) and the warning about the ticket's alarms that are still active."""
    with db.session() as s:
        ticket = s.get(Ticket, ticket_id)
        opened = ticket.created_at if ticket else datetime.now(UTC)
        active = [(a.code, a.message) for a in still_active(session=s, ticket_id=ticket_id)]
    title = f"Resolve ticket #{ticket_id}"
    return title, local(opened), local(datetime.now(UTC)), still_alarming(active)
