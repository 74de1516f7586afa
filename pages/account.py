"""Your account: who you are signed in as, and every browser signed in as you, each of which
you can sign out (a lost phone, a shared screen left signed in)."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.account import (
    ACCOUNT_END_OTHERS,
    ACCOUNT_FEEDBACK,
    ACCOUNT_REFRESH,
    ACCOUNT_SESSIONS,
    ACCOUNT_WHO,
)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ACCOUNT_REFRESH, data=0),
            html.H2("Your account", className="h4 mb-1"),
            html.P(id=ACCOUNT_WHO, className="text-muted"),
            html.Div(id=ACCOUNT_FEEDBACK),
            dbc.Card(
                [
                    dbc.CardHeader(
                        html.Div(
                            [
                                html.Span("Signed-in sessions", className="fw-semibold me-auto"),
                                dbc.Button(
                                    "Sign out everywhere else",
                                    id=ACCOUNT_END_OTHERS,
                                    color="outline-danger",
                                    size="sm",
                                ),
                            ],
                            className="d-flex align-items-center",
                        )
                    ),
                    dbc.CardBody(html.Div(id=ACCOUNT_SESSIONS)),
                ],
                style={"maxWidth": "900px"},
            ),
            html.P(
                "A session ends when you sign out, after a while without use, or when your "
                "password changes. Ending one here signs that browser out at its next click.",
                className="text-muted small mt-2",
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/account",
    name="Account",
    title="Your account · Predictive maintenance",
    nav=False,  # reached from the user's name in the menu bar
    action=Action.SESSION_OWN,
)
