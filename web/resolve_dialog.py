"""The resolve dialog (outcome, what was done, when the machine stopped and ran again), shared
by the tickets list and the ticket detail page, each with its own ids; and its validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import html, no_update

from data.db import Database
from data.models import Role, TicketStatus
from maintenance.tickets import TransitionError, change_status
from web import ids
from web.auth import AccessDenied, require

__all__ = [
    "error_alert",
    "submit_resolution",
    "transition",
    "DialogIds",
    "ResolveForm",
    "TICKETS_DIALOG",
    "DETAIL_DIALOG",
    "resolve_modal",
    "check_form",
    "local",
]


@dataclass(frozen=True, slots=True)
class DialogIds:
    modal: str
    title: str
    outcome: str
    outcome_error: str
    note: str
    down_start: str
    down_end: str
    submit: str
    cancel: str

    def error(self, field_id: str) -> str:
        return f"{field_id}-error"


TICKETS_DIALOG = DialogIds(
    ids.RESOLVE_MODAL,
    ids.RESOLVE_TITLE,
    ids.RESOLVE_OUTCOME,
    ids.RESOLVE_OUTCOME_ERROR,
    ids.RESOLVE_NOTE,
    ids.RESOLVE_DOWN_START,
    ids.RESOLVE_DOWN_END,
    ids.RESOLVE_SUBMIT,
    ids.RESOLVE_CANCEL,
)
DETAIL_DIALOG = DialogIds(
    ids.TICKET_RESOLVE_MODAL,
    ids.TICKET_RESOLVE_TITLE,
    ids.TICKET_RESOLVE_OUTCOME,
    ids.TICKET_RESOLVE_OUTCOME_ERROR,
    ids.TICKET_RESOLVE_NOTE,
    ids.TICKET_RESOLVE_DOWN_START,
    ids.TICKET_RESOLVE_DOWN_END,
    ids.TICKET_RESOLVE_SUBMIT,
    ids.TICKET_RESOLVE_CANCEL,
)


@dataclass(frozen=True, slots=True)
class ResolveForm:
    """The dialog's answers, checked: messages for the fields, or what to resolve with."""

    note: str
    failure: bool
    downtime: tuple[datetime, datetime] | None
    note_invalid: bool
    outcome_error: str
    start_error: str
    end_error: str

    @property
    def ok(self) -> bool:
        return not (self.note_invalid or self.outcome_error or self.start_error or self.end_error)


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


def check_form(
    outcome: str | None, note: str | None, stopped: str | None, running: str | None
) -> ResolveForm:
    """Check the dialog's fields the way a person reads them: every message at once."""
    note = (note or "").strip()
    outcome_error = "" if outcome in ("failure", "false_alarm") else "Choose an outcome."
    failure = outcome == "failure"
    start, start_error = _parse_when(stopped, required=failure)
    end, end_error = _parse_when(running, required=failure)
    if start and end and end < start:
        end_error = "Must be after the machine stopped."
    downtime = (start, end) if failure and start and end else None
    return ResolveForm(
        note, failure, downtime, len(note) < 3, outcome_error, start_error, end_error
    )


def _when(label: str, input_id: str, error_id: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=input_id, className="small"),
            dbc.Input(id=input_id, type="datetime-local", size="sm"),
            dbc.FormFeedback(id=error_id, type="invalid"),
        ]
    )


def resolve_modal(i: DialogIds) -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=i.title, children="Resolve ticket")),
            dbc.ModalBody(
                [
                    dbc.Label("Outcome", html_for=i.outcome),
                    dbc.RadioItems(
                        id=i.outcome,
                        options=[
                            {"label": "Real failure, fixed", "value": "failure"},
                            {"label": "False alarm, nothing wrong", "value": "false_alarm"},
                        ],
                    ),
                    html.Div(id=i.outcome_error, className="invalid-feedback d-block mb-2"),
                    dbc.Label("What was done", html_for=i.note, className="mt-2"),
                    dbc.Textarea(id=i.note, placeholder="Cause and action taken", maxLength=2000),
                    dbc.FormFeedback(
                        "Describe the cause and the action taken (at least 3 characters).",
                        type="invalid",
                    ),
                    html.Div(
                        [
                            html.Div(
                                "For a real failure: when the machine stopped and ran again "
                                "(UTC). The breakdown report counts it.",
                                className="form-text mb-1",
                            ),
                            dbc.Row(
                                [
                                    _when("Machine stopped", i.down_start, i.error(i.down_start)),
                                    _when("Running again", i.down_end, i.error(i.down_end)),
                                ],
                                className="g-2",
                            ),
                        ],
                        className="mt-3",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id=i.cancel, color="secondary", outline=True),
                    dbc.Button("Resolve", id=i.submit, color="success"),
                ]
            ),
        ],
        id=i.modal,
        is_open=False,
    )


def transition(
    db: Database,
    ticket_id: int,
    to: TicketStatus,
    *,
    roles: tuple[Role, ...],
    element: str,
    note: str = "",
    confirmed: bool | None = None,
    downtime: tuple[datetime, datetime] | None = None,
) -> dbc.Alert:
    """One status change for the current user (role checked here, on the server), and how
    it went as an alert with id ``<element>-ok`` or ``<element>-error``."""
    try:
        user = require(roles)
        with db.session() as s:
            change_status(
                session=s,
                ticket_id=ticket_id,
                to=to,
                user=user,
                resolution=note,
                failure_confirmed=confirmed,
                downtime=downtime,
            )
    except (TransitionError, AccessDenied) as exc:
        return error_alert(str(exc), f"{element}-error")
    label = to.value.replace("_", " ")
    return dbc.Alert(
        f"Ticket #{ticket_id} is now {label}.",
        color="success",
        duration=4000,
        dismissable=True,
        id=f"{element}-ok",
    )


def submit_resolution(
    db: Database,
    ticket_id: int | None,
    refresh: int | None,
    answers: tuple[str | None, str | None, str | None, str | None],
    *,
    roles: tuple[Role, ...],
    element: str,
) -> tuple:
    """The dialog's Resolve button, for both ticket pages: role first, then every field's
    message at once, then the change. ``answers`` are (outcome, note, stopped, running);
    the result fills the outputs (feedback, refresh, modal open, note invalid, outcome
    error, stop invalid, stop error, running invalid, running error)."""
    closed = (False, False, "", False, "", False, "")
    try:
        require(roles)
    except AccessDenied as exc:
        return error_alert(str(exc), f"{element}-error"), no_update, *closed
    form = check_form(*answers)
    fields = (bool(form.start_error), form.start_error, bool(form.end_error), form.end_error)
    if not form.ok or not ticket_id:
        return no_update, no_update, True, form.note_invalid, form.outcome_error, *fields
    alert = transition(
        db,
        int(ticket_id),
        TicketStatus.RESOLVED,
        roles=roles,
        element=element,
        note=form.note,
        confirmed=form.failure,
        downtime=form.downtime,
    )
    return alert, (refresh or 0) + 1, *closed


def error_alert(text: str, element_id: str) -> dbc.Alert:
    return dbc.Alert(text, color="danger", dismissable=True, id=element_id, className="mt-2")
