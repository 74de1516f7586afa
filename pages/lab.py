"""The model lab (engineers and admins): explore the data the models see, tune the alarm
thresholds on labelled history, train candidates, backtest them against the active model,
promote or roll back. Each section is built by its own view module; every callback checks
the role on the server."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from maintenance.people.permissions import Action
from web.views.lab_explore import asked_period, explore_section
from web.views.lab_models import (
    LAB_HEADER,
    LAB_TAB_IDS,
    LAB_TABS,
    MODELS_TAB,
    TUNE_TAB,
    models_section,
)
from web.views.lab_tune import tune_section


def layout(**query: str) -> html.Div:
    """``query``: the address's parameters; ``type``, ``machine``, ``start`` and ``end``
    pre-select the explore controls (the model-health page's link)."""
    asked = asked_period(query)
    return html.Div(
        [
            html.Div(
                [html.H2("Model lab", className="h4 mb-0 me-3"), html.Div(id=LAB_HEADER)],
                className="d-flex align-items-center flex-wrap mb-2",
            ),
            dbc.Tabs(
                [
                    dbc.Tab(explore_section(asked), label="Explore", tab_id=LAB_TAB_IDS[0]),
                    dbc.Tab(tune_section(), label="Tune thresholds", tab_id=TUNE_TAB),
                    dbc.Tab(models_section(), label="Train, backtest, promote", tab_id=MODELS_TAB),
                ],
                id=LAB_TABS,
                active_tab=LAB_TAB_IDS[0],
                className="mb-3",
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/lab",
    name="Model lab",
    title="Model lab · Predictive maintenance",
    order=7,
    action=Action.LAB_USE,
)
