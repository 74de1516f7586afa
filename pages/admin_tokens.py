"""API tokens: the other systems that call /api/v1 (ERP, MES, gateways, notebooks), each
with a role and an expiry; a new token's secret is shown once; admins revoke them here."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.admin_tokens import (
    ROLE_OPTIONS,
    SCOPE_OPTIONS,
    TOKENS_CREATE,
    TOKENS_DAYS,
    TOKENS_FEEDBACK,
    TOKENS_GRID,
    TOKENS_NAME,
    TOKENS_REFRESH,
    TOKENS_REVOKE,
    TOKENS_ROLE,
    TOKENS_SCOPES,
    TOKENS_SECRET,
)

_COLUMNS = [
    {"field": "name", "minWidth": 130},
    {"field": "account", "headerName": "Audited as", "minWidth": 130},
    {"field": "prefix", "headerName": "Starts with", "maxWidth": 140},
    {"field": "role", "maxWidth": 120},
    {"field": "scopes", "minWidth": 160},
    {
        "field": "state",
        "maxWidth": 110,
        "cellClassRules": {"text-muted fst-italic": "params.value != 'active'"},
    },
    {"field": "created", "minWidth": 200},
    {"field": "expires", "headerName": "Expires (UTC)", "minWidth": 140},
    {"field": "last_used", "headerName": "Last used (UTC)", "minWidth": 140},
]


def layout(**_query: str) -> html.Div:
    form = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Name (the audit log shows api:<name>)", html_for=TOKENS_NAME),
                    dbc.Input(id=TOKENS_NAME, size="sm", placeholder="erp", maxLength=40),
                ],
                md=4,
            ),
            dbc.Col(
                [
                    dbc.Label("Role", html_for=TOKENS_ROLE),
                    dbc.Select(id=TOKENS_ROLE, options=ROLE_OPTIONS, value="viewer", size="sm"),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Expires after (days; empty: never)", html_for=TOKENS_DAYS),
                    dbc.Input(id=TOKENS_DAYS, type="number", min=1, max=3650, value=90, size="sm"),
                ],
                md=3,
            ),
            dbc.Col(dbc.Button("Create token", id=TOKENS_CREATE, size="sm"), md=2),
            dbc.Col(
                [
                    dbc.Label(
                        "Limit to scopes (none ticked: all its role may do)",
                        html_for=TOKENS_SCOPES,
                    ),
                    dbc.Checklist(id=TOKENS_SCOPES, options=SCOPE_OPTIONS, value=[], inline=True),
                ],
                md=12,
            ),
        ],
        className="g-2 align-items-end mb-3",
    )
    return html.Div(
        [
            html.H2("API tokens", className="h4 mb-1"),
            html.P(
                "Other systems call /api/v1 with a token, never with a person's sign-in. A "
                "token may do what its role may (the same permissions as the pages), or less "
                "when limited to scopes (readings:write for a gateway that only posts "
                "readings, read for a historian); its writes are audited under its name. "
                "Docs: /api/v1/docs.",
                className="text-muted small mb-2",
            ),
            dbc.Card(dbc.CardBody(form), className="shadow-sm mb-2"),
            html.Div(id=TOKENS_SECRET),
            html.Div(id=TOKENS_FEEDBACK),
            dag.AgGrid(
                id=TOKENS_GRID,
                columnDefs=_COLUMNS,
                rowData=[],
                defaultColDef={"filter": True, "sortable": True, "resizable": True, "flex": 1},
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": {"noRowsToShow": "No tokens yet."},
                },
                getRowId="params.data.id",
                style={"height": "320px"},
                className="mb-2",
            ),
            dbc.Button(
                "Revoke selected token", id=TOKENS_REVOKE, size="sm", color="outline-danger"
            ),
            dcc.Store(id=TOKENS_REFRESH, data=0),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/admin/tokens",
    name="API tokens",
    title="API tokens · Predictive maintenance",
    order=14,
    admin_menu=True,
    action=Action.API_TOKEN_MANAGE,
)
