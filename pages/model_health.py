"""Model health (engineers, managers, admins): per machine type, how far the live data has
drifted from what the active models learned, and how often their alarms were right."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.model_health import (
    MH_DISTRIBUTIONS,
    MH_HEATMAP,
    MH_LAB,
    MH_MODELS,
    MH_NOTE,
    MH_QUALITY,
    MH_TYPE,
)


def _section(title: str, body: object) -> dbc.Card:
    return dbc.Card([dbc.CardHeader(title), dbc.CardBody(body)], className="mb-3")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Model health", className="h4 mb-0 me-3"),
                    dcc.Dropdown(
                        id=MH_TYPE,
                        clearable=False,
                        placeholder="Machine type",
                        style={"minWidth": "200px"},
                    ),
                ],
                className="d-flex align-items-center flex-wrap gap-2 mb-3",
            ),
            html.Div(id=MH_NOTE, className="mb-2"),
            _section("Active models", html.Div(id=MH_MODELS)),
            _section(
                "Realised alarm quality (technicians' verdicts and breakdowns)",
                html.Div(id=MH_QUALITY),
            ),
            _section(
                "Data drift",
                [
                    dcc.Graph(id=MH_HEATMAP, config={"displaylogo": False}),
                    dcc.Graph(id=MH_DISTRIBUTIONS, config={"displaylogo": False}),
                    html.Div(id=MH_LAB, className="mt-2"),
                ],
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/model-health",
    name="Model health",
    title="Model health · Predictive maintenance",
    order=7,
    action=Action.MODEL_HEALTH_VIEW,
)
