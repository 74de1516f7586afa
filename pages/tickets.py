"""Tickets: the list with status actions, and the resolve dialog."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.resolve_dialog import RESOLVE_TICKET, TICKETS_DIALOG, resolve_modal
from web.views.tickets import (
    TICKETS_FEEDBACK,
    TICKETS_FILTER,
    TICKETS_REFRESH,
    TICKETS_TABLE,
    TICKETS_TICK,
)

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
                        id=TICKETS_FILTER,
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
            html.Div(id=TICKETS_FEEDBACK),
            html.Div(id=TICKETS_TABLE, children=dbc.Spinner(color="primary")),
            dcc.Interval(id=TICKETS_TICK, interval=5000),
            dcc.Store(id=TICKETS_REFRESH, data=0),
            dcc.Store(id=RESOLVE_TICKET),
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
