"""Machines: the fleet's machines and sensors, created, edited, retired, or imported from
a CSV file (admins; managers may look)."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.admin_machines import (
    ADMIN_MACHINE_FEEDBACK,
    ADMIN_MACHINE_ID,
    ADMIN_MACHINE_LINE,
    ADMIN_MACHINE_LOCATION,
    ADMIN_MACHINE_NAME,
    ADMIN_MACHINE_NEW,
    ADMIN_MACHINE_PAYLOAD,
    ADMIN_MACHINE_REACTIVATE,
    ADMIN_MACHINE_RETIRE,
    ADMIN_MACHINE_SAVE,
    ADMIN_MACHINE_SHOW,
    ADMIN_MACHINE_TITLE,
    ADMIN_MACHINE_TOPIC,
    ADMIN_MACHINE_TYPE,
    ADMIN_MACHINES_GRID,
    ADMIN_MACHINES_NOTE,
    ADMIN_MACHINES_REFRESH,
    ADMIN_SENSOR_ADD,
    ADMIN_SENSOR_ROWS,
    ADMIN_SENSORS_ERROR,
    admin_machine_error,
    sensor_header,
)
from web.views.admin_machines_csv import csv_card

_COLUMNS = [
    {"field": "name", "sort": "asc", "minWidth": 140},
    {"field": "type", "maxWidth": 150},
    {"field": "location"},
    {"field": "line"},
    {"field": "sensors", "maxWidth": 105, "filter": "agNumberColumnFilter"},
    {
        "field": "status",
        "minWidth": 150,
        "maxWidth": 180,
        "cellClassRules": {"text-muted fst-italic": "params.value.startsWith('retired')"},
    },
]


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Machines", className="h4 mb-0"),
                    dbc.Button("New machine", id=ADMIN_MACHINE_NEW, size="sm"),
                ],
                className="d-flex justify-content-between align-items-center mb-2",
            ),
            html.Div(id=ADMIN_MACHINES_NOTE),
            dbc.Row(
                [
                    dbc.Col(
                        dag.AgGrid(
                            id=ADMIN_MACHINES_GRID,
                            columnDefs=_COLUMNS,
                            rowData=[],
                            defaultColDef={
                                "filter": True,
                                "sortable": True,
                                "resizable": True,
                                "flex": 1,
                            },
                            dashGridOptions={
                                "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                                "localeText": {
                                    "noRowsToShow": "No machines yet: add one or import a CSV."
                                },
                            },
                            getRowId="params.data.id",
                            # ten rows before it scrolls (it was five: the demo's sixth
                            # machine was hidden); as tall as the card beside it
                            style={"height": "470px"},
                        ),
                        lg=7,
                    ),
                    dbc.Col(_integration_card(), lg=5),
                ],
                className="g-3 mb-3",
            ),
            _machine_card(),
            csv_card(),
            dcc.Store(id=ADMIN_MACHINES_REFRESH, data=0),
            dcc.Store(id=ADMIN_MACHINE_SHOW, data={"id": None, "n": 0}),
            dcc.Store(id=ADMIN_MACHINE_ID, data=None),
        ]
    )


def _field(label: str, field: str, control_id: str, placeholder: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=control_id, className="small mb-0"),
            dbc.Input(id=control_id, placeholder=placeholder, size="sm"),
            dbc.FormFeedback(id=admin_machine_error(field), type="invalid"),
        ],
        md=3,
    )


def _machine_card() -> dbc.Card:
    fields = dbc.Row(
        [
            _field("Name (unique)", "name", ADMIN_MACHINE_NAME, "e.g. press-07"),
            _field("Type", "type", ADMIN_MACHINE_TYPE, "e.g. press"),
            _field("Location", "location", ADMIN_MACHINE_LOCATION, "e.g. Hall 2"),
            _field("Line", "line", ADMIN_MACHINE_LINE, "e.g. Line 3"),
        ],
        className="g-2 mb-3",
    )
    buttons = html.Div(
        [
            dbc.Button("Add sensor", id=ADMIN_SENSOR_ADD, size="sm", color="secondary"),
            dbc.Button("Save", id=ADMIN_MACHINE_SAVE, size="sm", className="ms-2"),
            dbc.Button(
                "Retire",
                id=ADMIN_MACHINE_RETIRE,
                size="sm",
                color="outline-danger",
                className="ms-auto",
                style={"display": "none"},
            ),
            dbc.Button(
                "Reactivate",
                id=ADMIN_MACHINE_REACTIVATE,
                size="sm",
                color="outline-success",
                className="ms-auto",
                style={"display": "none"},
            ),
        ],
        className="d-flex align-items-center mt-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader(html.Span("New machine", id=ADMIN_MACHINE_TITLE)),
            dbc.CardBody(
                [
                    fields,
                    html.H3("Sensors", className="h6"),
                    sensor_header(),
                    html.Div(id=ADMIN_SENSOR_ROWS),
                    html.Div(id=ADMIN_SENSORS_ERROR, className="text-danger small"),
                    html.Small(
                        "Limits are optional; where given they must keep critical low ≤ "
                        "warning low < warning high ≤ critical high. Sensors are never "
                        "deleted (their history stays): fix a wrong key by editing it.",
                        className="text-muted",
                    ),
                    buttons,
                    html.Div(id=ADMIN_MACHINE_FEEDBACK, className="mt-2"),
                ]
            ),
        ],
        className="shadow-sm mb-3",
    )


def _integration_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("What the machine sends"),
            dbc.CardBody(
                [
                    html.Small("Publish with QoS 1 to the topic", className="text-muted"),
                    html.Pre(id=ADMIN_MACHINE_TOPIC, className="bg-light p-2 mb-2"),
                    html.Small(
                        "a JSON body like this one (ts: ISO-8601 with a timezone, or epoch "
                        "seconds; one message may carry many readings):",
                        className="text-muted",
                    ),
                    html.Pre(
                        id=ADMIN_MACHINE_PAYLOAD,
                        className="bg-light p-2 small mb-2",
                        style={"whiteSpace": "pre-wrap"},
                    ),
                    html.Small(
                        "New machines and sensors are accepted by the running ingest worker "
                        "at once; a retired machine's readings are refused within 30 s.",
                        className="text-muted",
                    ),
                ]
            ),
        ],
        className="shadow-sm h-100",
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/admin/machines",
    name="Machines",
    title="Machines · Predictive maintenance",
    order=10,
    admin_menu=True,
    action=Action.FLEET_ADMIN_VIEW,
)
