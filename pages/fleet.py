"""Fleet overview: KPI strip, filters, and one live tile per machine sorted by risk."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.fleet import (
    FLEET_CLOCK,
    FLEET_CURSOR,
    FLEET_GRID,
    FLEET_KPIS,
    FLEET_LOCATION,
    FLEET_MODE,
    FLEET_SPARK_LEGEND,
    FLEET_TICK,
    FLEET_TYPE,
    fleet_filter,
)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Fleet", className="h4 mb-0 me-3"),
                    fleet_filter(FLEET_TYPE, "Type"),
                    fleet_filter(FLEET_LOCATION, "Location"),
                    html.Div(id=FLEET_MODE, className="ms-auto"),
                ],
                className="d-flex align-items-center flex-wrap gap-1 mb-3",
            ),
            html.Div(id=FLEET_CLOCK),
            html.Div(id=FLEET_KPIS),
            html.Small(id=FLEET_SPARK_LEGEND, className="text-muted d-block mb-2"),
            dbc.Row(id=FLEET_GRID, children=dbc.Spinner(color="primary")),
            dcc.Interval(id=FLEET_TICK, interval=2000),
            dcc.Store(id=FLEET_CURSOR),
        ]
    )


# registered after the layout exists: the app imports pages itself (no folder scan)
dash.register_page(
    __name__,
    layout=layout,
    path="/",
    name="Fleet",
    title="Fleet · Predictive maintenance",
    order=0,
    action=Action.FLEET_VIEW,
)
