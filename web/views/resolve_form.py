"""The resolve dialog's answers, checked field by field the way a person reads them, and the
messages and alerts the dialog shows (no database here: ``callbacks/resolve_ticket.py``
resolves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import dash_bootstrap_components as dbc

from data.models import TicketStatus
from web.views.resolve_dialog import still_alarming

__all__ = [
    "Answers",
    "ResolveForm",
    "check_form",
    "messages",
    "done_alert",
    "error_alert",
    "local",
    "opening",
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
    """The value a datetime-local input shows: UTC, to the second (stored times without a
    zone are UTC)."""
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


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


def done_alert(ticket_id: int, to: TicketStatus, element: str) -> dbc.Alert:
    """How a status change went, as an alert with id ``<element>-ok``."""
    label = to.value.replace("_", " ")
    return dbc.Alert(
        f"Ticket #{ticket_id} is now {label}.",
        color="success",
        duration=4000,
        dismissable=True,
        id=f"{element}-ok",
    )


def error_alert(text: str, element_id: str) -> dbc.Alert:
    """A refusal, as an alert with id ``element_id``."""
    return dbc.Alert(text, color="danger", dismissable=True, id=element_id, className="mt-2")


def opening(
    ticket_id: int,
    stopped: datetime,
    ran_again: datetime | None,
    active: list[tuple[str, str]],
) -> tuple:
    """What the resolve dialog opens with: its title, the proposed stop (the stop seen in
    the data, else the ticket's opening; until it ran again, else now) and the warning
    about the ticket's alarms that are still active (code, message)."""
    title = f"Resolve ticket #{ticket_id}"
    end = ran_again or datetime.now(UTC)
    return title, local(stopped), local(end), still_alarming(active)
