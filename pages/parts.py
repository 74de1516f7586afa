"""Spare parts: the inventory with stock and minimum stock (low rows highlighted, managers
warned); managers and admins create parts and adjust stock, technicians read."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.parts import (
    PARTS_EDITOR,
    PARTS_FEEDBACK,
    PARTS_GRID,
    PARTS_ID,
    PARTS_LOW,
    PARTS_MIN,
    PARTS_NAME,
    PARTS_NEW,
    PARTS_NUMBER,
    PARTS_REFRESH,
    PARTS_SAVE,
    PARTS_STOCK,
    PARTS_TYPES,
    PARTS_UNIT,
)

_COLUMNS = [
    {"field": "number", "headerName": "Part number", "sort": "asc", "minWidth": 130},
    {"field": "name", "minWidth": 200},
    {"field": "stock", "maxWidth": 110, "type": "rightAligned"},
    {"field": "min_stock", "headerName": "Min stock", "maxWidth": 120, "type": "rightAligned"},
    {"field": "unit", "maxWidth": 90},
    {"field": "machine_types", "headerName": "Machine types", "minWidth": 160},
]
_LOW_ROW = {
    "styleConditions": [{"condition": "params.data.low", "style": {"backgroundColor": "#fff3cd"}}]
}


def _field(label: str, control: object, **col: object) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=control.id, className="small"), control], **col)


def _editor() -> dbc.Card:
    def number(input_id: str) -> dbc.Input:
        return dbc.Input(id=input_id, type="number", step=1, size="sm")

    fields = dbc.Row(
        [
            _field("Part number", dbc.Input(id=PARTS_NUMBER, maxLength=64, size="sm"), md=3),
            _field("Name", dbc.Input(id=PARTS_NAME, maxLength=200, size="sm"), md=5),
            _field("Unit", dbc.Input(id=PARTS_UNIT, value="pcs", maxLength=16, size="sm"), md=2),
            _field("Stock", number(PARTS_STOCK), md=2),
            _field("Min stock", number(PARTS_MIN), md=2),
            _field(
                "Machine types (comma separated)",
                dbc.Input(id=PARTS_TYPES, size="sm", placeholder="pump, motor"),
                md=6,
            ),
        ],
        className="g-2",
    )
    buttons = html.Div(
        [
            dbc.Button("Save", id=PARTS_SAVE, color="primary", size="sm", className="me-2"),
            dbc.Button("New part", id=PARTS_NEW, color="secondary", outline=True, size="sm"),
        ],
        className="mt-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader("Create or edit a part (select a row to edit it)"),
            dbc.CardBody([fields, buttons]),
        ],
        id=PARTS_EDITOR,
        className="shadow-sm",
        style={"display": "none"},
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Spare parts", className="h4 mb-1"),
            html.P(
                "Stock goes down when technicians record parts on tickets. Rows at or below "
                "their minimum stock are highlighted.",
                className="text-muted small mb-2",
            ),
            html.Div(id=PARTS_LOW),
            dag.AgGrid(
                id=PARTS_GRID,
                columnDefs=_COLUMNS,
                rowData=[],
                defaultColDef={"filter": True, "sortable": True, "resizable": True, "flex": 1},
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": {"noRowsToShow": "No parts yet."},
                },
                getRowStyle=_LOW_ROW,
                getRowId="params.data.id",
                style={"height": "320px"},
                className="mb-3",
            ),
            html.Div(id=PARTS_FEEDBACK),
            _editor(),
            dcc.Store(id=PARTS_ID, data=None),
            dcc.Store(id=PARTS_REFRESH, data=0),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/parts",
    name="Parts",
    title="Spare parts · Predictive maintenance",
    order=5,
    action=Action.PART_VIEW,
)
