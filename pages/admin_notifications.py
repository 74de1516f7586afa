"""Notifications: the channels (email, Slack, signed webhooks) and every delivery with its
outcome (admins change channels; managers may look)."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.admin_notifications import (
    NOTIFY_ACTIVE,
    NOTIFY_CHANNEL_ID,
    NOTIFY_CHANNELS_GRID,
    NOTIFY_EVENTS,
    NOTIFY_FEEDBACK,
    NOTIFY_FORM_TITLE,
    NOTIFY_KIND,
    NOTIFY_LOG_GRID,
    NOTIFY_NAME,
    NOTIFY_NEW,
    NOTIFY_NOTE,
    NOTIFY_REFRESH,
    NOTIFY_SAVE,
    NOTIFY_SECRET,
    NOTIFY_TARGET,
    NOTIFY_TEST,
    NOTIFY_TICK,
    notify_error,
)
from web.views.components import fields_form

_CHANNEL_COLUMNS = [
    {"field": "name", "sort": "asc", "minWidth": 130},
    {"field": "kind", "maxWidth": 110},
    {"field": "target", "minWidth": 220},
    {"field": "secret", "maxWidth": 140},
    {"field": "events", "minWidth": 170},
    {
        "field": "status",
        "maxWidth": 130,
        "cellClassRules": {"text-muted fst-italic": "params.value == 'deactivated'"},
    },
]
_LOG_COLUMNS = [
    {"field": "when", "headerName": "When (UTC)", "sort": "desc", "minWidth": 160},
    {"field": "channel", "minWidth": 140},
    {"field": "event", "maxWidth": 120},
    {"field": "ticket", "maxWidth": 100},
    {
        "field": "status",
        "maxWidth": 110,
        "cellClassRules": {
            "text-danger fw-bold": "params.value == 'failed'",
            "text-success": "params.value == 'sent'",
        },
    },
    {"field": "attempts", "maxWidth": 110, "filter": "agNumberColumnFilter"},
    {"field": "next", "headerName": "Next attempt / sent", "minWidth": 160},
    {"field": "last_error", "headerName": "Last error", "minWidth": 220},
]
_GRID = {"filter": True, "sortable": True, "resizable": True, "flex": 1}


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Notifications", className="h4 mb-0"),
                    dbc.Button("New channel", id=NOTIFY_NEW, size="sm"),
                ],
                className="d-flex justify-content-between align-items-center mb-1",
            ),
            html.P(
                "Where ticket assignments, raised priorities, escalations and resolutions are "
                "sent. The worker delivers every 10 s and retries failures (30 s, 2 min, 10 min, "
                "1 h) before giving up.",
                className="text-muted small mb-2",
            ),
            html.Div(id=NOTIFY_NOTE),
            dag.AgGrid(
                id=NOTIFY_CHANNELS_GRID,
                columnDefs=_CHANNEL_COLUMNS,
                rowData=[],
                defaultColDef=_GRID,
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": {"noRowsToShow": "No channels yet."},
                },
                getRowId="params.data.id",
                style={"height": "220px"},
                className="mb-3",
            ),
            html.Div(id=NOTIFY_FEEDBACK),
            _form(),
            html.H3("Delivery log", className="h5"),
            dag.AgGrid(
                id=NOTIFY_LOG_GRID,
                columnDefs=_LOG_COLUMNS,
                rowData=[],
                defaultColDef=_GRID,
                dashGridOptions={"localeText": {"noRowsToShow": "Nothing sent yet."}},
                getRowId="params.data.id",
                style={"height": "320px"},
                className="mb-4",
            ),
            dcc.Store(id=NOTIFY_REFRESH, data=0),
            dcc.Store(id=NOTIFY_CHANNEL_ID, data=None),
            dcc.Interval(id=NOTIFY_TICK, interval=10_000),
        ]
    )


def _field(label: str, field: str, control: object, **col: object) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=getattr(control, "id", None), className="small mb-0"),
            control,
            dbc.FormFeedback(id=notify_error(field), type="invalid"),
        ],
        **col,
    )


def _form() -> dbc.Card:
    kind = dbc.Select(
        id=NOTIFY_KIND,
        options=[
            {"label": "Email", "value": "email"},
            {"label": "Slack (incoming webhook)", "value": "slack"},
            {"label": "Webhook (signed JSON)", "value": "webhook"},
        ],
        value="email",
        size="sm",
    )
    fields = dbc.Row(
        [
            _field("Name", "name", dbc.Input(id=NOTIFY_NAME, size="sm"), md=3),
            _field("Kind", "kind", kind, md=3),
            _field(
                "Email address or URL",
                "target",
                dbc.Input(id=NOTIFY_TARGET, size="sm", placeholder="team@plant.example"),
                md=6,
            ),
        ],
        className="g-2 mb-2",
    )
    secret = _field(
        "Secret (webhooks: the HMAC key; leave empty to keep the current one)",
        "secret",
        dbc.Input(id=NOTIFY_SECRET, type="password", size="sm", autocomplete="off"),
        md=6,
    )
    events = dbc.Col(
        [
            dbc.Label("Events", html_for=NOTIFY_EVENTS, className="small mb-0"),
            dbc.Checklist(
                id=NOTIFY_EVENTS,
                options=[
                    {"label": "Assigned", "value": "assigned"},
                    {"label": "Worsened", "value": "worsened"},
                    {"label": "Escalated", "value": "escalated"},
                    {"label": "Resolved", "value": "resolved"},
                ],
                value=["assigned", "worsened", "escalated", "resolved"],
                inline=True,
            ),
            html.Div(id=notify_error("events"), className="text-danger small"),
        ],
        md=6,
    )
    buttons = html.Div(
        [
            dbc.Button("Save", id=NOTIFY_SAVE, size="sm", type="button"),
            dbc.Button(
                "Send test",
                id=NOTIFY_TEST,
                size="sm",
                color="secondary",
                className="ms-2",
                disabled=True,
                type="button",
            ),
            dbc.Button(
                "Deactivate",
                id=NOTIFY_ACTIVE,
                size="sm",
                color="outline-danger",
                className="ms-auto",
                disabled=True,
                type="button",
            ),
        ],
        className="d-flex align-items-center",
    )
    return dbc.Card(
        [
            dbc.CardHeader(html.Span("New channel", id=NOTIFY_FORM_TITLE)),
            dbc.CardBody(
                fields_form([fields, dbc.Row([secret, events], className="g-2 mb-3"), buttons])
            ),
        ],
        className="shadow-sm mb-3",
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/admin/notifications",
    name="Notifications",
    title="Notifications · Predictive maintenance",
    order=13,
    admin_menu=True,
    action=Action.NOTIFICATION_VIEW,
)
