"""The tickets page: its ids and the ticket table."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from maintenance.ticketing.ticket_list import TicketRow
from web.views.components import PRIORITY_COLOR, STATUS_FLOW_COLOR, age
from web.views.ticket_assign import escalated_badge

__all__ = ["ticket_table"]

# ids of this page's components
TICKETS_FILTER = "tickets-filter"
TICKETS_TABLE = "tickets-table"
TICKETS_TICK = "tickets-tick"
TICKETS_FEEDBACK = "tickets-feedback"
TICKETS_REFRESH = "tickets-refresh"
TICKET_ACTION = "ticket-action"
TICKETS_EMPTY = "tickets-empty"


def ticket_action(ticket_id: int, action: str) -> dict[str, object]:
    return {"type": TICKET_ACTION, "ticket": ticket_id, "action": action}


def ticket_table(rows: list[TicketRow], *, can_act: bool) -> html.Div:
    if not rows:
        return html.Div(
            dbc.Alert(
                "No tickets here. When a machine gets sick, its ticket appears in this list.",
                color="light",
            ),
            id=TICKETS_EMPTY,
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "#",
                    "Priority",
                    "Machine",
                    "Code",
                    "Problem",
                    "Status",
                    "Technician",
                    "Age",
                    "",
                )
            ]
        )
    )
    body = html.Tbody([_ticket_row(r, can_act) for r in rows])
    return dbc.Table([head, body], hover=True, responsive=True, className="align-middle")


def _ticket_row(r: TicketRow, can_act: bool) -> html.Tr:
    return html.Tr(
        [
            html.Td(html.A(f"#{r.id}", href=f"/ticket/{r.id}", id=f"ticket-link-{r.id}")),
            html.Td(
                [
                    dbc.Badge(r.priority.value, color=PRIORITY_COLOR[r.priority.value]),
                    escalated_badge(r.id) if r.escalated_at else "",
                ]
            ),
            html.Td(r.machine),
            html.Td(
                [
                    html.Code(r.code),
                    html.Span(
                        f" +{r.joined}",
                        className="small text-muted",
                        title=f"{r.joined} more alarm{'s' if r.joined > 1 else ''} of this "
                        "machine joined the ticket",
                        id=f"ticket-joined-{r.id}",
                    )
                    if r.joined
                    else "",
                ]
            ),
            html.Td(r.title),
            html.Td(
                dbc.Badge(
                    r.status.value.replace("_", " "), color=STATUS_FLOW_COLOR[r.status.value]
                ),
                id=f"ticket-status-{r.id}",
            ),
            html.Td(html.Span(r.technician or "—", title=r.assignment_reason)),
            html.Td(age(r.created_at)),
            html.Td(_actions(r) if can_act else ""),
        ],
        id=f"ticket-row-{r.id}",
    )


def _actions(r: TicketRow) -> html.Div:
    buttons = {
        "OPEN": [("start", "Start work", "primary")],
        "IN_PROGRESS": [("resolve", "Resolve…", "success"), ("release", "Put back", "secondary")],
        "RESOLVED": [("reopen", "Reopen", "outline-secondary")],
    }[r.status.value]
    return html.Div(
        [
            dbc.Button(
                label, id=ticket_action(r.id, action), color=color, size="sm", className="me-1"
            )
            for action, label, color in buttons
        ]
    )
