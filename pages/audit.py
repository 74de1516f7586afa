"""Audit log: every recorded change with who, when, before and after; CSV export."""

import dash
import dash_ag_grid as dag
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.audit import AUDIT_CSV, AUDIT_ERROR, AUDIT_GRID, AUDIT_RANGE

_COLUMNS = [
    {
        "field": "ts",
        "headerName": "When (UTC)",
        "sort": "desc",
        "minWidth": 180,
        "cellDataType": "text",
    },
    {"field": "user", "maxWidth": 140},
    {"field": "action", "maxWidth": 190},
    {"field": "entity", "maxWidth": 120},
    {"field": "entity_id", "headerName": "Id", "maxWidth": 100},
    {"field": "change", "headerName": "Before → after", "flex": 3, "tooltipField": "change"},
]


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Audit log", className="h4 mb-0 me-3"),
                    dcc.DatePickerRange(
                        id=AUDIT_RANGE,
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        minimum_nights=0,
                        className="me-3",
                    ),
                    html.A("CSV", id=AUDIT_CSV, className="btn btn-outline-secondary btn-sm"),
                ],
                className="d-flex align-items-center flex-wrap gap-1 mb-3",
            ),
            html.Div(id=AUDIT_ERROR),
            dag.AgGrid(
                id=AUDIT_GRID,
                columnDefs=_COLUMNS,
                rowData=[],
                defaultColDef={
                    "filter": True,
                    "floatingFilter": True,
                    "sortable": True,
                    "resizable": True,
                    "flex": 1,
                },
                dashGridOptions={
                    "pagination": True,
                    "paginationPageSize": 100,
                    "tooltipShowDelay": 300,
                    "localeText": {"noRowsToShow": "Nothing was changed in this range."},
                },
                getRowId="params.data.id",
                style={"height": "640px"},
            ),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/audit",
    name="Audit",
    title="Audit log · Predictive maintenance",
    order=8,
    admin_menu=True,
    action=Action.AUDIT_VIEW,
)
