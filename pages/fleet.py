"""Fleet overview: KPI strip and one live card per machine (data arrives by callback)."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from web import ids


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [html.H2("Fleet", className="h4 mb-0"), html.Div(id=ids.FLEET_MODE)],
                className="d-flex justify-content-between align-items-center mb-3",
            ),
            html.Div(id=ids.FLEET_KPIS),
            dbc.Row(id=ids.FLEET_GRID, children=dbc.Spinner(color="primary")),
            dcc.Interval(id=ids.FLEET_TICK, interval=2000),
            dcc.Store(id=ids.FLEET_CURSOR),
        ]
    )


# registered after the layout exists: the app imports pages itself (no folder scan)
dash.register_page(
    __name__, layout=layout, path="/", name="Fleet", title="Fleet · Predictive maintenance", order=0
)
