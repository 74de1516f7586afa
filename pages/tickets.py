"""Tickets: the list with status actions, and the resolve dialog."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.permissions import Action
from web import ids
from web.resolve_dialog import TICKETS_DIALOG, resolve_modal

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
            resolve_modal(TICKETS_DIALOG),
        ]
    )


# registered after the layout exists: the app imports pages itself (no folder scan)
dash.register_page(
    __name__,
    layout=layout,
    path="/tickets",
    name="Tickets",
    title="Tickets · Predictive maintenance",
    order=1,
    action=Action.TICKET_VIEW,
)
