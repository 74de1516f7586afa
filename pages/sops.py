"""SOP library: every procedure by error code, its versions, and (engineers, admins) editing."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.sops import (
    SOPS_BASE,
    SOPS_BODY,
    SOPS_CODE,
    SOPS_EDITOR,
    SOPS_FEEDBACK,
    SOPS_HEADER,
    SOPS_HISTORY,
    SOPS_LIST,
    SOPS_PREVIEW,
    SOPS_REFRESH,
    SOPS_SAVE,
    SOPS_SEARCH,
    SOPS_TEXT,
    SOPS_TEXT_ERROR,
    SOPS_VERSION,
)


def _editor() -> html.Div:
    return html.Div(
        [
            html.H3("Edit", className="h6 mt-4"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Textarea(
                                id=SOPS_TEXT,
                                rows=20,
                                className="font-monospace small",
                                spellCheck=True,
                            ),
                            dbc.FormFeedback(id=SOPS_TEXT_ERROR, type="invalid"),
                            html.Div(
                                "Markdown. Front matter “title: …”, then sections: Safety, "
                                "Tools, Steps (a numbered list: each item becomes a checklist "
                                "step), Expected readings after the fix.",
                                className="form-text",
                            ),
                            dbc.Button(
                                "Save as new version",
                                id=SOPS_SAVE,
                                color="primary",
                                size="sm",
                                className="mt-2",
                            ),
                            html.Div(id=SOPS_FEEDBACK, className="mt-2"),
                        ],
                        lg=6,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Preview", className="small"),
                                dbc.CardBody(html.Div(id=SOPS_PREVIEW, className="sop-text")),
                            ]
                        ),
                        lg=6,
                    ),
                ]
            ),
        ],
        id=SOPS_EDITOR,
        hidden=True,
    )


def layout(code: str = "", **_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=SOPS_CODE, data=code.strip()[:32]),
            dcc.Store(id=SOPS_REFRESH, data=0),
            dcc.Store(id=SOPS_BASE),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2("SOP library", className="h4"),
                            dbc.Input(
                                id=SOPS_SEARCH,
                                type="search",
                                placeholder="Search by code or text",
                                debounce=0.3,
                                className="mb-2",
                            ),
                            html.Div(id=SOPS_LIST),
                        ],
                        lg=3,
                    ),
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.Div(id=SOPS_HEADER),
                                    dbc.Select(
                                        id=SOPS_VERSION,
                                        options=[],
                                        size="sm",
                                        style={"maxWidth": "16rem"},
                                    ),
                                ],
                                className="d-flex justify-content-between align-items-start gap-3",
                            ),
                            html.Div(id=SOPS_BODY, className="sop-text mt-2"),
                            html.Div(id=SOPS_HISTORY),
                            _editor(),
                        ],
                        lg=9,
                    ),
                ]
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/sops",
    name="SOPs",
    title="SOP library · Predictive maintenance",
    order=2,
    action=Action.SOP_VIEW,
)
