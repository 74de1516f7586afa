"""Tickets: the list with status actions, and the resolve dialog."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from web import ids

FILTERS = [
    {"label": "Mine", "value": "mine"},
    {"label": "All open", "value": "open"},
    {"label": "All, with resolved", "value": "all"},
]


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Tickets", className="h4 mb-0"),
                    dbc.RadioItems(
                        id=ids.TICKETS_FILTER,
                        options=FILTERS,
                        value="open",
                        inline=True,
                        className="btn-group filter-group",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="d-flex justify-content-between align-items-center mb-3",
            ),
            html.Div(id=ids.TICKETS_FEEDBACK),
            html.Div(id=ids.TICKETS_TABLE, children=dbc.Spinner(color="primary")),
            dcc.Interval(id=ids.TICKETS_TICK, interval=5000),
            dcc.Store(id=ids.TICKETS_REFRESH, data=0),
            dcc.Store(id=ids.RESOLVE_TICKET),
            _resolve_modal(),
        ]
    )


def _when(label: str, input_id: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=input_id, className="small"),
            dbc.Input(id=input_id, type="datetime-local", size="sm"),
            dbc.FormFeedback(id=f"{input_id}-error", type="invalid"),
        ]
    )


def _resolve_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id=ids.RESOLVE_TITLE, children="Resolve ticket")),
            dbc.ModalBody(
                [
                    dbc.Label("Outcome", html_for=ids.RESOLVE_OUTCOME),
                    dbc.RadioItems(
                        id=ids.RESOLVE_OUTCOME,
                        options=[
                            {"label": "Real failure, fixed", "value": "failure"},
                            {"label": "False alarm, nothing wrong", "value": "false_alarm"},
                        ],
                    ),
                    html.Div(
                        id=ids.RESOLVE_OUTCOME_ERROR, className="invalid-feedback d-block mb-2"
                    ),
                    dbc.Label("What was done", html_for=ids.RESOLVE_NOTE, className="mt-2"),
                    dbc.Textarea(
                        id=ids.RESOLVE_NOTE, placeholder="Cause and action taken", maxLength=2000
                    ),
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
                                    _when("Machine stopped", ids.RESOLVE_DOWN_START),
                                    _when("Running again", ids.RESOLVE_DOWN_END),
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
                    dbc.Button("Cancel", id=ids.RESOLVE_CANCEL, color="secondary", outline=True),
                    dbc.Button("Resolve", id=ids.RESOLVE_SUBMIT, color="success"),
                ]
            ),
        ],
        id=ids.RESOLVE_MODAL,
        is_open=False,
    )


# registered after the layout exists: the app imports pages itself (no folder scan)
dash.register_page(
    __name__,
    layout=layout,
    path="/tickets",
    name="Tickets",
    title="Tickets · Predictive maintenance",
    order=1,
)
