"""Reports: breakdowns, downtime, MTBF, MTTR, availability and alarms for any date range,
with CSV and PDF downloads and the weekly reports the scheduler stored."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.reports import (
    CHART_HEIGHT,
    REPORT_ALARMS,
    REPORT_CSV,
    REPORT_ERROR,
    REPORT_HEADLINE,
    REPORT_KPIS,
    REPORT_MACHINES,
    REPORT_PDF,
    REPORT_PRESET,
    REPORT_RANGE,
    REPORT_STORED,
    REPORT_TYPES,
    REPORT_WEEKS,
    initial_range,
)

_FIRST_PRESET = "4w"

PRESETS = [
    {"label": "Last week", "value": "last-week"},
    {"label": "Last 4 weeks", "value": "4w"},
    {"label": "Last 90 days", "value": "90d"},
    {"label": "Custom", "value": "custom"},
]


def _graph(graph_id: str, title: str) -> dbc.Col:
    """A chart's card; the range's callback puts the chart in (``chart``), so Plotly draws
    each chart once at a load, not an empty plot first and the figure after."""
    return dbc.Col(
        dbc.Card(
            [dbc.CardHeader(title), html.Div(id=graph_id, style={"height": f"{CHART_HEIGHT}px"})],
            className="shadow-sm mb-3",
        ),
        lg=6,
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Reports", className="h4 mb-0 me-3"),
                    dbc.RadioItems(
                        id=REPORT_PRESET,
                        options=PRESETS,
                        value=_FIRST_PRESET,
                        inline=True,
                        className="btn-group filter-group me-3",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                    dcc.DatePickerRange(
                        id=REPORT_RANGE,
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        minimum_nights=0,
                        className="me-3",
                        **initial_range(_FIRST_PRESET),
                    ),
                    html.A("CSV", id=REPORT_CSV, className="btn btn-outline-secondary btn-sm me-2"),
                    html.A("PDF", id=REPORT_PDF, className="btn btn-outline-secondary btn-sm"),
                ],
                className="d-flex align-items-center flex-wrap gap-1 mb-3",
            ),
            html.Div(id=REPORT_ERROR),
            html.Div(id=REPORT_HEADLINE),
            html.Div(id=REPORT_KPIS),
            dbc.Row(
                [
                    _graph(REPORT_WEEKS, "Breakdowns per week"),
                    _graph(REPORT_TYPES, "Breakdowns and availability per machine type"),
                    _graph(REPORT_MACHINES, "Downtime per machine"),
                    _graph(REPORT_ALARMS, "Alarms by source"),
                ]
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        "Weekly reports (built every Monday, rebuilt when their data changes)"
                    ),
                    html.Div(id=REPORT_STORED),
                ],
                className="shadow-sm mb-4",
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/reports",
    name="Reports",
    title="Reports · Predictive maintenance",
    order=3,
    action=Action.REPORT_VIEW,
)
