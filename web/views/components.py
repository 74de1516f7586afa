"""Small builders for the pieces pages and callbacks share (figures, badges, tables)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import Patch, ctx, html
from dash.exceptions import PreventUpdate

from maintenance.formatting import format_duration
from maintenance.ticket_list import TicketRow
from web.views.ticket_assign import escalated_badge
from web.views.tickets import ticket_action

PRIORITY_COLOR = {"CRITICAL": "danger", "HIGH": "warning", "LOW": "secondary"}
STATUS_FLOW_COLOR = {"OPEN": "primary", "IN_PROGRESS": "info", "RESOLVED": "success"}


def row_list_patch(add_id: object, row_ids: list[dict], new_row: Callable[[int], object]) -> Patch:
    """The change to an add/remove list of form rows (ids carry ``row``): a click on
    ``add_id`` appends ``new_row(next row number)``, a click on a row's remove button
    deletes that row; a row appearing (no click) changes nothing."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate  # a row appeared, nobody clicked
    patch = Patch()
    rows = [r["row"] for r in row_ids]
    if ctx.triggered_id == add_id:
        patch.append(new_row(max(rows, default=-1) + 1))
    elif ctx.triggered_id["row"] in rows:
        del patch[rows.index(ctx.triggered_id["row"])]
    else:
        raise PreventUpdate  # a row the page does not show (never sent by a browser)
    return patch


def age(ts: datetime) -> str:
    """How long ago ``ts`` was, as every page says durations ("12 min", "1 h 20 min")."""
    return format_duration(round((datetime.now(UTC) - ts).total_seconds()))


def ticket_table(rows: list[TicketRow], *, can_act: bool) -> html.Div:
    if not rows:
        return html.Div(
            dbc.Alert(
                "No tickets here. When a machine gets sick, its ticket appears in this list.",
                color="light",
            ),
            id="tickets-empty",
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
