"""The reassign control on the ticket page and the "Escalated" badge (tickets list, page)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from maintenance.ticketing.assignment import TechnicianOption

__all__ = ["assign_control", "escalated_badge", "select_options", "done_alert", "error_alert"]

# ids of this page's components
TICKET_ASSIGN_FORM = "ticket-assign-form"
TICKET_ASSIGN_SELECT = "ticket-assign-select"
TICKET_ASSIGN_SUBMIT = "ticket-assign-submit"
TICKET_ASSIGN_FEEDBACK = "ticket-assign-feedback"
TICKET_ESCALATED = "ticket-escalated"
TICKET_ASSIGN_DONE = "ticket-assign-done"
TICKET_ASSIGN_ERROR = "ticket-assign-error"


def ticket_escalated(ticket_id: int) -> str:
    return f"ticket-escalated-{ticket_id}"


def escalated_badge(ticket_id: int) -> dbc.Badge:
    return dbc.Badge(
        "Escalated",
        color="danger",
        className="ms-1",
        id=ticket_escalated(ticket_id),
        title="Not started in time: escalated to the managers",
    )


def assign_control() -> html.Div:
    """Layout: the escalation badge, and (managers, admins; shown by the callback) a select
    of technicians with a Reassign button."""
    form = html.Div(
        dbc.InputGroup(
            [
                dbc.InputGroupText("Reassign to"),
                dbc.Select(id=TICKET_ASSIGN_SELECT, options=[]),
                dbc.Button("Reassign", id=TICKET_ASSIGN_SUBMIT, color="secondary"),
            ],
            size="sm",
        ),
        id=TICKET_ASSIGN_FORM,
        hidden=True,
        style={"maxWidth": "36rem"},
    )
    return html.Div(
        [html.Div(id=TICKET_ESCALATED), form, html.Div(id=TICKET_ASSIGN_FEEDBACK)],
        className="mb-2",
    )


def select_options(options: list[TechnicianOption]) -> list[dict[str, str]]:
    return [{"label": o.label, "value": str(o.id)} for o in options]


def done_alert(ticket_id: int, name: str) -> dbc.Alert:
    return dbc.Alert(
        f"Ticket #{ticket_id} is now assigned to {name}.",
        color="success",
        dismissable=True,
        duration=6000,
        id=TICKET_ASSIGN_DONE,
        className="mt-2 mb-0",
    )


def error_alert(text: str) -> dbc.Alert:
    return dbc.Alert(
        text, color="danger", dismissable=True, id=TICKET_ASSIGN_ERROR, className="mt-2 mb-0"
    )
