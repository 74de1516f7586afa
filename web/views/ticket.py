"""Builders for the ticket detail page: header, SOP checklist, status buttons, comments and
history (the alarm panel is ``ticket_alarm.py``'s). User text is only ever rendered as text or
as Markdown without HTML."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.procedures.sop_text import plain
from maintenance.repair.ticket_detail import Checklist, CommentRow, HistoryRow, TicketDetail
from web.views.components import PRIORITY_COLOR, STATUS_FLOW_COLOR, age
from web.views.ticket_alarm import alarm_panel, utc_when

__all__ = ["detail_outputs", "comment_list", "history_list", "missing_ticket", "steps_note"]

# ids of this page's components
TICKET_ID = "ticket-id"
TICKET_REFRESH = "ticket-refresh"  # a status changed: redraw the page
TICKET_ACTIVITY = "ticket-activity"  # a step or comment saved: redraw comments and history
TICKET_HEADER = "ticket-header"
TICKET_ALARM = "ticket-alarm"
TICKET_GRAPH = "ticket-graph"
TICKET_SOP = "ticket-sop"
TICKET_SOP_AFTER = "ticket-sop-after"
TICKET_STEP = "ticket-step"  # one checklist per step: {type, version, step}
TICKET_STEPS = "ticket-steps"
TICKET_STEPS_NOTE = "ticket-steps-note"
TICKET_STEPS_FEEDBACK = "ticket-steps-feedback"
TICKET_ACTIONS = "ticket-actions"
TICKET_DETAIL_ACTION = "ticket-detail-action"
TICKET_FEEDBACK = "ticket-feedback"
TICKET_COMMENTS = "ticket-comments"
TICKET_COMMENT_FORM = "ticket-comment-form"
TICKET_COMMENT_TEXT = "ticket-comment-text"
TICKET_COMMENT_ERROR = "ticket-comment-error"
TICKET_COMMENT_SUBMIT = "ticket-comment-submit"
TICKET_HISTORY = "ticket-history"
TICKET_CODE = "ticket-code"
TICKET_FILES_CARD = "ticket-files-card"
TICKET_MACHINE = "ticket-machine"
TICKET_MISSING = "ticket-missing"
TICKET_BODY = "ticket-body"  # everything below the header: hidden for a ticket that is not
TICKET_NO_COMMENTS = "ticket-no-comments"
TICKET_NO_SOP = "ticket-no-sop"
TICKET_PROCEDURE = "ticket-procedure"
TICKET_SOP_CREATE = "ticket-sop-create"
TICKET_SOP_TITLE = "ticket-sop-title"
TICKET_STATUS = "ticket-status"
TICKET_TECHNICIAN = "ticket-technician"
TICKET_TITLE = "ticket-title"
TICKET_VERDICT = "ticket-verdict"


def ticket_detail_action(action: str) -> dict[str, object]:
    return {"type": TICKET_DETAIL_ACTION, "action": action}


def ticket_step(sop_version_id: int, step: int) -> dict[str, object]:
    return {"type": TICKET_STEP, "version": sop_version_id, "step": step}


_BUTTONS = {
    "OPEN": [("start", "Start work", "primary")],
    "IN_PROGRESS": [("resolve", "Resolve…", "success"), ("release", "Put back", "secondary")],
    "RESOLVED": [("reopen", "Reopen", "outline-secondary")],
}
_HISTORY_ICON = {"open": "●", "escalate": "▲", "status": "➜", "step": "☑", "comment": "✎"}


def detail_outputs(d: TicketDetail | None, ticket_id: object, *, can_write_sops: bool) -> tuple:
    """header, actions, alarm, SOP text, step checklists, steps note, expected readings,
    comment form hidden, page body hidden: the page's outputs in this order."""
    if d is None:
        return missing_ticket(ticket_id), None, None, None, None, "", None, True, True
    c = d.checklist
    sop = _sop(d, c, can_write_sops)
    if c is None:
        return (
            _header(d),
            _actions(d),
            alarm_panel(d),
            sop,
            None,
            "",
            None,
            not d.may_comment,
            False,
        )
    after = dcc.Markdown(c.after, className="sop-text mt-3") if c.after else None
    return (
        _header(d),
        _actions(d),
        alarm_panel(d),
        sop,
        _checklist(d, c),
        _steps_note(d, c),
        after,
        not d.may_comment,
        False,
    )


def missing_ticket(ticket_id: object) -> dbc.Alert:
    """A ticket number that names no ticket (or is no number): said plainly, a way back."""
    number = f"#{ticket_id}" if isinstance(ticket_id, int) else f"“{str(ticket_id)[:40]}”"
    return dbc.Alert(
        [
            html.Strong(f"No such ticket: {number}. "),
            html.Span("It may have been mistyped. "),
            html.A("See all tickets", href="/tickets", className="alert-link"),
        ],
        color="warning",
        id=TICKET_MISSING,
    )


def _checklist(d: TicketDetail, c: Checklist) -> list[dbc.Checklist]:
    """One checklist per step, so a click says exactly which step it means."""
    locked = not d.may_work or d.status.value == "RESOLVED"
    return [
        dbc.Checklist(
            id=ticket_step(c.version_id, i),
            options=[{"label": f"{i + 1}. {plain(step)}", "value": i, "disabled": locked}],
            value=[i] if i in c.done else [],
            inputClassName="me-2",
        )
        for i, step in enumerate(c.steps)
    ]


def _header(d: TicketDetail) -> html.Div:
    status = d.status.value
    why = d.assignment_reason.split(": ", 1)[-1]  # "assigned: fewest open tickets (2)"
    assignee = (
        html.Span(["Assigned to ", html.Strong(d.technician, id=TICKET_TECHNICIAN), f": {why}"])
        if d.technician
        else html.Span(f"Unassigned: {why}")
    )
    lines = [
        html.Div(
            [
                html.H2(f"Ticket #{d.id}", className="h4 mb-0 me-2", id=TICKET_TITLE),
                html.Code(d.code, className="fs-6 me-2", id=TICKET_CODE),
                dbc.Badge(
                    d.priority.value, color=PRIORITY_COLOR[d.priority.value], className="me-1"
                ),
                dbc.Badge(
                    status.replace("_", " "), color=STATUS_FLOW_COLOR[status], id=TICKET_STATUS
                ),
            ],
            className="d-flex align-items-center flex-wrap",
        ),
        html.Div(d.title, className="mt-1"),
        html.Div(
            [
                html.A(d.machine, href=f"/machine/{d.machine}", id=TICKET_MACHINE),
                " · ",
                assignee,
                f" · opened {age(d.created_at)} ago, {utc_when(d.created_at)}",
            ],
            className="text-muted small mt-1",
        ),
    ]
    if status == "RESOLVED":
        lines.append(_resolution(d))
    return html.Div(lines)


def _resolution(d: TicketDetail) -> dbc.Alert:
    """The outcome, what caused it and what was done (older tickets: their one note)."""
    verdict = {True: "Real failure", False: "False alarm"}.get(d.failure_confirmed, "Resolved")
    found = [
        html.Div([html.Strong(f"{label}: "), text], id=element_id)
        for label, text, element_id in (
            ("Cause", d.cause, "ticket-cause"),
            ("Action taken", d.action_taken, "ticket-action-taken"),
            ("Note", d.resolution, "ticket-resolution-note"),
        )
        if text
    ]
    return dbc.Alert(
        [html.Strong(verdict, className="d-block mb-1", id=TICKET_VERDICT), *found],
        color="success",
        className="mt-2 mb-0 py-2 ticket-resolution",
    )


def _actions(d: TicketDetail) -> html.Div | None:
    if not d.may_work:
        return None
    return html.Div(
        [
            dbc.Button(label, id=ticket_detail_action(action), color=color, className="ms-1")
            for action, label, color in _BUTTONS[d.status.value]
        ]
    )


def _sop(d: TicketDetail, c: Checklist | None, can_write: bool) -> list:
    link = f"/sops?code={d.code}"
    if c is None:
        offer = [" ", html.A("Write one", href=link, id=TICKET_SOP_CREATE)] if can_write else []
        return [
            dbc.Alert(
                [f"There is no SOP for {d.code} yet.", *offer],
                color="secondary",
                id=TICKET_NO_SOP,
            )
        ]
    version = f"version {c.version}"
    if c.version != c.current_version:
        version += f" (the steps were ticked on it; version {c.current_version} is current)"
    return [
        html.Div(
            [
                html.H3(c.title, className="h5 mb-0 me-2", id=TICKET_SOP_TITLE),
                html.Span(f"SOP {d.code}, {version}", className="text-muted small me-2"),
                html.A("in the SOP library", href=link, className="small"),
            ],
            className="d-flex align-items-baseline flex-wrap mb-2",
        ),
        dcc.Markdown(c.before, className="sop-text") if c.before else None,
        html.Div(html.H2("Steps"), className="sop-text"),
    ]


def steps_note(d: TicketDetail | None) -> str:
    """The counter under the checklist ("3 of 8 steps done. …"), as stored now."""
    return _steps_note(d, d.checklist) if d is not None and d.checklist is not None else ""


def _steps_note(d: TicketDetail, c: Checklist) -> str:
    done = f"{len(c.done)} of {len(c.steps)} steps done."
    if d.status.value == "RESOLVED":
        return f"{done} The ticket is resolved: reopen it to change the checklist."
    if not d.may_work:
        who = d.technician or "the assigned technician"
        return f"{done} Only {who} or a manager ticks the steps."
    return f"{done} Tick each step as you finish it; it is saved with your name."


def comment_list(rows: list[CommentRow]) -> list:
    if not rows:
        return [html.P("No comments yet.", className="text-muted small", id=TICKET_NO_COMMENTS)]
    return [
        html.Div(
            [
                html.Div(
                    [
                        html.Strong(r.author),
                        html.Span(f" · {utc_when(r.created_at)}", className="text-muted"),
                    ],
                    className="small",
                ),
                html.Div(r.body, className="ticket-comment-body"),
            ],
            className="ticket-comment border-bottom py-2",
        )
        for r in rows
    ]


def history_list(rows: list[HistoryRow]) -> html.Ul | html.P:
    if not rows:
        return html.P("Nothing yet.", className="text-muted small")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(_HISTORY_ICON.get(r.kind, "•"), className="me-2 text-muted"),
                    html.Span(r.text),
                    html.Div(f"{r.who} · {utc_when(r.ts)}", className="text-muted"),
                ],
                className=f"list-group-item small history-{r.kind}",
            )
            for r in rows
        ],
        className="list-group list-group-flush ticket-history",
    )
