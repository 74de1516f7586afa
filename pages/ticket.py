"""Ticket detail: the alarm behind it, the readings around it, its SOP as a checklist,
comments, status actions and history."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.resolve_dialog import DETAIL_DIALOG, resolve_modal
from web.views.ticket import (
    TICKET_ACTIONS,
    TICKET_ACTIVITY,
    TICKET_ALARM,
    TICKET_BODY,
    TICKET_COMMENT_ERROR,
    TICKET_COMMENT_FORM,
    TICKET_COMMENT_SUBMIT,
    TICKET_COMMENT_TEXT,
    TICKET_COMMENTS,
    TICKET_FEEDBACK,
    TICKET_FILES_CARD,
    TICKET_GRAPH,
    TICKET_HEADER,
    TICKET_HISTORY,
    TICKET_ID,
    TICKET_PROCEDURE,
    TICKET_REFRESH,
    TICKET_SOP,
    TICKET_SOP_AFTER,
    TICKET_STEPS,
    TICKET_STEPS_FEEDBACK,
    TICKET_STEPS_NOTE,
    missing_ticket,
)
from web.views.ticket_assign import assign_control
from web.views.ticket_files import files_body, record_link
from web.views.ticket_parts import parts_card


def _card(title: str, body: list, **kwargs: object) -> dbc.Card:
    return dbc.Card(
        [dbc.CardHeader(title), dbc.CardBody(body)], className="shadow-sm mb-3", **kwargs
    )


def layout(ticket_id: str | None = None, **_query: str) -> html.Div:
    if ticket_id is not None and not ticket_id.isdigit():  # /ticket/abc: nothing to draw
        return html.Div(
            [html.A("← Tickets", href="/tickets", className="small"), missing_ticket(ticket_id)]
        )
    procedure = [
        html.Div(id=TICKET_SOP),
        html.Div(id=TICKET_STEPS, className="sop-steps"),
        html.Div(id=TICKET_STEPS_NOTE, className="form-text"),
        html.Div(id=TICKET_STEPS_FEEDBACK),
        html.Div(id=TICKET_SOP_AFTER),
    ]
    comments = [
        html.Div(id=TICKET_COMMENTS),
        html.Div(
            [
                dbc.Label("Add a comment", html_for=TICKET_COMMENT_TEXT, className="mt-3"),
                dbc.Textarea(
                    id=TICKET_COMMENT_TEXT,
                    placeholder="What you found, what you need, what you did",
                    rows=3,
                ),
                dbc.FormFeedback(id=TICKET_COMMENT_ERROR, type="invalid"),
                dbc.Button(
                    "Add comment",
                    id=TICKET_COMMENT_SUBMIT,
                    color="primary",
                    size="sm",
                    className="mt-2",
                ),
            ],
            id=TICKET_COMMENT_FORM,
            hidden=True,
        ),
    ]
    return html.Div(
        [
            dcc.Store(id=TICKET_ID, data=int(ticket_id) if ticket_id else None),
            dcc.Store(id=TICKET_REFRESH, data=0),
            dcc.Store(id=TICKET_ACTIVITY, data=0),
            html.Div(
                [html.A("← Tickets", href="/tickets", className="small"), record_link()],
                className="d-flex justify-content-between align-items-center",
            ),
            html.Div(
                [
                    html.Div(id=TICKET_HEADER, children=dbc.Spinner(color="primary")),
                    html.Div(id=TICKET_ACTIONS, className="text-nowrap"),
                ],
                className="d-flex justify-content-between align-items-start gap-3 mb-2",
            ),
            html.Div(
                [assign_control(), html.Div(id=TICKET_FEEDBACK), _body(procedure, comments)],
                id=TICKET_BODY,
            ),
            resolve_modal(DETAIL_DIALOG),
        ]
    )


def _body(procedure: list, comments: list) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                [
                    _card("Procedure", procedure, id=TICKET_PROCEDURE),
                    _card("Comments", comments),
                    _card("Files", files_body(), id=TICKET_FILES_CARD),
                ],
                lg=7,
            ),
            dbc.Col(
                [
                    _card("Alarm", [html.Div(id=TICKET_ALARM)]),
                    _card(
                        "Readings around the alarm",
                        [
                            dcc.Graph(
                                id=TICKET_GRAPH,
                                config={"displaylogo": False, "displayModeBar": False},
                            )
                        ],
                    ),
                    parts_card(),
                    _card("History", [html.Div(id=TICKET_HISTORY)]),
                ],
                lg=5,
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path_template="/ticket/<ticket_id>",
    name="Ticket",
    title="Ticket · Predictive maintenance",
    nav=False,
    action=Action.TICKET_VIEW,
)
