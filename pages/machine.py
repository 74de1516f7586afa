"""Machine detail: live sensors with limits, failure probability, and what happened."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.machine import (
    MACHINE_CURSOR,
    MACHINE_EVENTS,
    MACHINE_GRAPH,
    MACHINE_HEADER,
    MACHINE_NAME,
    MACHINE_POINTS,
    MACHINE_RANGE,
    MACHINE_STATE,
    MACHINE_TICK,
    RANGES,
)


def layout(name: str = "", **_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=MACHINE_NAME, data=name),
            dcc.Store(id=MACHINE_CURSOR),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(id=MACHINE_HEADER, children=html.H2(name, className="h4")),
                            html.Div(id=MACHINE_STATE, className="mt-1"),
                        ]
                    ),
                    dbc.RadioItems(
                        id=MACHINE_RANGE,
                        options=[{"label": label, "value": k} for k, (label, _) in RANGES.items()],
                        value="1h",
                        inline=True,
                        className="btn-group filter-group",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="d-flex justify-content-between align-items-center flex-wrap mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dcc.Loading(
                                dcc.Graph(id=MACHINE_GRAPH, config={"displaylogo": False}),
                                delay_show=300,
                            ),
                            html.Small(id=MACHINE_POINTS, className="text-muted"),
                        ],
                        lg=9,
                    ),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader("Alarms, tickets and downtime"),
                                html.Div(id=MACHINE_EVENTS, className="machine-events"),
                            ],
                            className="shadow-sm",
                        ),
                        lg=3,
                    ),
                ]
            ),
            dcc.Interval(id=MACHINE_TICK, interval=5000),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path_template="/machine/<name>",
    name="Machine",
    title="Machine · Predictive maintenance",
    nav=False,
    action=Action.FLEET_VIEW,
)
