"""Ticket detail: the alarm behind it, the readings around it, its SOP as a checklist,
comments, status actions and history."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.permissions import Action
from web import ids
from web.assign_view import assign_control
from web.attachment_view import files_body, record_link
from web.parts_view import parts_card
from web.resolve_dialog import DETAIL_DIALOG, resolve_modal


def _card(title: str, body: list, **kwargs: object) -> dbc.Card:
    return dbc.Card(
        [dbc.CardHeader(title), dbc.CardBody(body)], className="shadow-sm mb-3", **kwargs
    )


def layout(ticket_id: str = "", **_query: str) -> html.Div:
    procedure = [
        html.Div(id=ids.TICKET_SOP),
        html.Div(id=ids.TICKET_STEPS, className="sop-steps"),
        html.Div(id=ids.TICKET_STEPS_NOTE, className="form-text"),
        html.Div(id=ids.TICKET_STEPS_FEEDBACK),
        html.Div(id=ids.TICKET_SOP_AFTER),
    ]
    comments = [
        html.Div(id=ids.TICKET_COMMENTS),
        html.Div(
            [
                dbc.Label("Add a comment", html_for=ids.TICKET_COMMENT_TEXT, className="mt-3"),
                dbc.Textarea(
                    id=ids.TICKET_COMMENT_TEXT,
                    placeholder="What you found, what you need, what you did",
                    rows=3,
                ),
                dbc.FormFeedback(id=ids.TICKET_COMMENT_ERROR, type="invalid"),
                dbc.Button(
                    "Add comment",
                    id=ids.TICKET_COMMENT_SUBMIT,
                    color="primary",
                    size="sm",
                    className="mt-2",
                ),
            ],
            id=ids.TICKET_COMMENT_FORM,
            hidden=True,
        ),
    ]
    return html.Div(
        [
            dcc.Store(id=ids.TICKET_ID, data=int(ticket_id) if ticket_id.isdigit() else None),
            dcc.Store(id=ids.TICKET_REFRESH, data=0),
            dcc.Store(id=ids.TICKET_ACTIVITY, data=0),
            html.Div(
                [html.A("← Tickets", href="/tickets", className="small"), record_link()],
                className="d-flex justify-content-between align-items-center",
            ),
            html.Div(
                [
                    html.Div(id=ids.TICKET_HEADER, children=dbc.Spinner(color="primary")),
                    html.Div(id=ids.TICKET_ACTIONS, className="text-nowrap"),
                ],
                className="d-flex justify-content-between align-items-start gap-3 mb-2",
            ),
            assign_control(),
            html.Div(id=ids.TICKET_FEEDBACK),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            _card("Procedure", procedure, id="ticket-procedure"),
                            _card("Comments", comments),
                            _card("Files", files_body(), id="ticket-files-card"),
                        ],
                        lg=7,
                    ),
                    dbc.Col(
                        [
                            _card("Alarm", [html.Div(id=ids.TICKET_ALARM)]),
                            _card(
                                "Readings around the alarm",
                                [
                                    dcc.Graph(
                                        id=ids.TICKET_GRAPH,
                                        config={"displaylogo": False, "displayModeBar": False},
                                    )
                                ],
                            ),
                            parts_card(),
                            _card("History", [html.Div(id=ids.TICKET_HISTORY)]),
                        ],
                        lg=5,
                    ),
                ]
            ),
            resolve_modal(DETAIL_DIALOG),
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
