"""Preventive maintenance plans: each plan's next due date per machine; managers,
engineers and admins create plans (by calendar or running hours) and deactivate them."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.plans import (
    PLANS_CODE,
    PLANS_CREATE,
    PLANS_DEACTIVATE,
    PLANS_EVERY_DAYS,
    PLANS_EVERY_HOURS,
    PLANS_FEEDBACK,
    PLANS_FORM,
    PLANS_GRID,
    PLANS_LEAD,
    PLANS_MACHINE,
    PLANS_NAME,
    PLANS_REFRESH,
    PLANS_TYPE,
)

_COLUMNS = [
    {"field": "plan", "minWidth": 160},
    {"field": "code", "headerName": "SOP", "maxWidth": 160},
    {"field": "machine", "maxWidth": 150},
    {"field": "every", "minWidth": 170},
    {"field": "last_done", "headerName": "Last done (UTC)", "cellDataType": "text"},
    {"field": "hours_since", "headerName": "Running h since", "minWidth": 175},
    {"field": "next_due", "headerName": "Next due (UTC)", "sort": "asc", "cellDataType": "text"},
    {"field": "status", "maxWidth": 120},
]


def _field(label: str, control: object, **col: object) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=control.id, className="small"),
            control,
            dbc.FormFeedback(id=f"{control.id}-error", type="invalid"),
        ],
        **col,
    )


def _form() -> dbc.Card:
    def num(input_id: str, **kw: object) -> dbc.Input:
        return dbc.Input(id=input_id, type="number", min=0, size="sm", **kw)

    row = dbc.Row(
        [
            _field("Name", dbc.Input(id=PLANS_NAME, maxLength=200, size="sm"), md=4),
            _field(
                "SOP code",
                dbc.Select(id=PLANS_CODE, options=[], size="sm"),  # the SOP library's codes
                md=3,
            ),
            _field("One machine", dbc.Select(id=PLANS_MACHINE, options=[], size="sm"), md=3),
            _field("…or machine type", dbc.Select(id=PLANS_TYPE, options=[], size="sm"), md=2),
            _field("Every N days", num(PLANS_EVERY_DAYS), md=3),
            _field("…or every N running hours", num(PLANS_EVERY_HOURS), md=3),
            _field("Open this many days early", num(PLANS_LEAD, value=3), md=3),
        ],
        className="g-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader("New plan"),
            dbc.CardBody(
                [
                    row,
                    dbc.Button(
                        "Create plan",
                        id=PLANS_CREATE,
                        color="primary",
                        size="sm",
                        className="mt-2",
                    ),
                ]
            ),
        ],
        id=PLANS_FORM,
        className="shadow-sm",
        style={"display": "none"},
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Preventive maintenance", className="h4 mb-1"),
            html.P(
                "Plans open a planned ticket with their SOP ahead of the due date. Completing "
                "it early moves the next due date: it counts from the completion.",
                className="text-muted small mb-2",
            ),
            dag.AgGrid(
                id=PLANS_GRID,
                columnDefs=_COLUMNS,
                rowData=[],
                defaultColDef={"filter": True, "sortable": True, "resizable": True, "flex": 1},
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": {"noRowsToShow": "No plans yet."},
                },
                style={"height": "300px"},
                className="mb-2",
            ),
            dbc.Button(
                "Deactivate selected plan",
                id=PLANS_DEACTIVATE,
                color="secondary",
                outline=True,
                size="sm",
                className="mb-3",
            ),
            html.Div(id=PLANS_FEEDBACK),
            _form(),
            dcc.Store(id=PLANS_REFRESH, data=0),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/plans",
    name="Plans",
    title="Preventive maintenance · Predictive maintenance",
    order=6,
    action=Action.PLAN_VIEW,
)
