"""Alarms: every alarm in a filterable grid, acknowledge and clear, maintenance windows."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.server.page_access import may
from web.views.alarms import (
    ALARMS_ACK,
    ALARMS_CLEAR,
    ALARMS_FEEDBACK,
    ALARMS_GRID,
    ALARMS_RANGE,
    ALARMS_REFRESH,
    ALARMS_TICK,
    SILENCE_FEEDBACK,
    SILENCE_HOURS,
    SILENCE_LIST,
    SILENCE_MACHINE,
    SILENCE_REASON,
    SILENCE_SUBMIT,
    silence_error,
)

RANGES = [
    {"label": "Active", "value": "active"},
    {"label": "24 hours", "value": "1"},
    {"label": "7 days", "value": "7"},
    {"label": "30 days", "value": "30"},
]

# read whole: the row grows to the cell's lines rather than cut it
_WRAPPED = {
    "wrapText": True,
    "autoHeight": True,
    "cellStyle": {"lineHeight": "1.4", "paddingTop": "6px", "paddingBottom": "6px"},
}
_COLUMNS = [  # at least wide enough for their longest usual value; the message takes the rest
    {
        "field": "raised",
        "headerName": "Raised (UTC)",
        "sort": "desc",
        "minWidth": 165,
        "cellDataType": "text",
    },
    {"field": "age", "headerName": "Age", "minWidth": 75, "sortable": False, "filter": False},
    {"field": "machine", "cellRenderer": "markdown", "minWidth": 115},
    {"field": "code", "minWidth": 150},  # "PRED_FAILURE" whole
    {
        "field": "severity",
        "minWidth": 105,
        "cellClassRules": {
            "text-danger fw-bold": "params.value == 'CRITICAL'",
            "text-warning fw-bold": "params.value == 'WARNING'",
        },
    },
    {"field": "source", "minWidth": 105},
    # who acknowledged or cleared it, in the state: "acknowledged by anna"
    {"field": "state", "minWidth": 150, **_WRAPPED},
    {"field": "ticket", "cellRenderer": "markdown", "minWidth": 80, "filter": False},
    {"field": "value", "headerName": "Latest value", "minWidth": 130, **_WRAPPED},
    {"field": "message", "flex": 3, "minWidth": 200, **_WRAPPED},
]


def layout(**_query: str) -> html.Div:
    """The grid for everyone; the buttons and the window form only for the roles that may
    use them (kept in the page hidden: the grid's callback fills the form's machine list)."""
    can_ack, can_clear = may(Action.ALARM_ACKNOWLEDGE), may(Action.ALARM_CLEAR)
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Alarms", className="h4 mb-0"),
                    dbc.RadioItems(
                        id=ALARMS_RANGE,
                        options=RANGES,
                        value="7",
                        inline=True,
                        className="btn-group filter-group",
                        inputClassName="btn-check",
                        labelClassName="btn btn-outline-primary btn-sm",
                        labelCheckedClassName="active",
                    ),
                ],
                className="d-flex justify-content-between align-items-center mb-2",
            ),
            html.Div(
                [
                    *(
                        dbc.Button(label, id=i, size="sm", color=c, className="me-2", style=style)
                        for label, i, c, style in (
                            ("Acknowledge selected", ALARMS_ACK, "primary", _shown(can_ack)),
                            ("Clear selected", ALARMS_CLEAR, "secondary", _shown(can_clear)),
                        )
                    ),
                    html.Span(
                        "Select rows (click, shift-click), then act; filter in the column headers.",
                        className="text-muted small ms-3",
                    ),
                ],
                className="mb-2",
                hidden=not (can_ack or can_clear),
            ),
            html.Div(id=ALARMS_FEEDBACK),
            dag.AgGrid(
                id=ALARMS_GRID,
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
                    **(_SELECTION if can_ack or can_clear else {}),
                    "localeText": {"noRowsToShow": "No alarms in this range."},
                    "pagination": True,
                    "paginationPageSize": 50,
                    "tooltipShowDelay": 300,
                },
                getRowId="params.data.id",
                style={"height": "560px"},
                className="mb-4",
            ),
            _silence_card(may(Action.ALARM_SILENCE)),
            dcc.Interval(id=ALARMS_TICK, interval=5000),
            dcc.Store(id=ALARMS_REFRESH, data=0),
        ]
    )


_HIDDEN = {"display": "none"}


def _shown(may: bool) -> dict | None:
    return None if may else _HIDDEN


_SELECTION = {"rowSelection": {"mode": "multiRow", "enableClickSelection": True}}


def _field(label: str, control: object, field: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=f"silence-{field}"),
            control,
            dbc.FormFeedback(id=silence_error(field), type="invalid"),
        ],
        md=3 if field != "reason" else 4,
    )


def _silence_card(can_silence: bool) -> dbc.Card:
    form = dbc.Row(
        [
            _field("Machine", dbc.Select(id=SILENCE_MACHINE, options=[]), "machine"),
            _field(
                "Hours",
                dbc.Input(id=SILENCE_HOURS, type="number", min=0.25, max=168, step=0.25, value=4),
                "hours",
            ),
            _field(
                "Reason",
                dbc.Input(id=SILENCE_REASON, placeholder="e.g. planned bearing replacement"),
                "reason",
            ),
            dbc.Col(
                dbc.Button("Silence alarms", id=SILENCE_SUBMIT, color="warning"),
                md=2,
                className="d-flex align-items-end",
            ),
        ],
        className="g-2 mb-2",
    )
    return dbc.Card(
        [
            dbc.CardHeader("Maintenance windows"),
            dbc.CardBody(
                [
                    html.P(
                        "During a window the machine's alarms are still recorded, but they raise "
                        "no red warning and open no ticket.",
                        className="text-muted small",
                    ),
                    html.Div(form, hidden=not can_silence),
                    html.Div(id=SILENCE_FEEDBACK),
                    html.Div(id=SILENCE_LIST),
                ]
            ),
        ],
        className="shadow-sm mb-4",
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/alarms",
    name="Alarms",
    title="Alarms · Predictive maintenance",
    order=1,
    action=Action.ALARM_VIEW,
)
