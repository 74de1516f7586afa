"""Users (admins only): who may sign in with which role, technicians' skills and shift."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.admin_users import (
    USERS_ACTIVE,
    USERS_CREATE,
    USERS_EDIT,
    USERS_EDIT_TITLE,
    USERS_EMAIL,
    USERS_FEEDBACK,
    USERS_GRID,
    USERS_NEW_EMAIL,
    USERS_NEW_MODE,
    USERS_NEW_NAME,
    USERS_NEW_PASSWORD,
    USERS_NEW_ROLE,
    USERS_REFRESH,
    USERS_ROLE,
    USERS_SAVE,
    USERS_SEND_LINK,
    USERS_SET_PASSWORD,
    USERS_SHIFT,
    USERS_SHIFT_END,
    USERS_SHIFT_START,
    USERS_SIGN_OUT,
    USERS_SKILLS,
    USERS_TEMP_PASSWORD,
    users_error,
)
from web.views.components import fields_form

_COLUMNS = [
    {"field": "username", "headerName": "Name", "sort": "asc", "minWidth": 140},
    {"field": "email", "minWidth": 200},
    {"field": "role", "maxWidth": 130},
    {
        "field": "status",
        "maxWidth": 130,
        "cellClassRules": {"text-danger fw-bold": "params.value == 'deactivated'"},
    },
    {"field": "skills", "minWidth": 160},
    {"field": "shift", "headerName": "Shift (UTC)", "maxWidth": 150},
    {"field": "created", "headerName": "Created", "maxWidth": 130, "cellDataType": "text"},
    {
        "field": "last_sign_in",
        "headerName": "Last sign-in (UTC)",
        "minWidth": 170,
        "cellDataType": "text",  # "never" is no date
    },
]


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Users", className="h4 mb-1"),
            html.P(
                "Select a user to change their role, skills, shift or password, or to "
                "deactivate them. Every change is in the audit log.",
                className="text-muted small mb-2",
            ),
            dag.AgGrid(
                id=USERS_GRID,
                columnDefs=_COLUMNS,
                rowData=[],
                defaultColDef={"filter": True, "sortable": True, "resizable": True, "flex": 1},
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "localeText": {"noRowsToShow": "No users."},
                },
                getRowId="params.data.id",
                style={"height": "300px"},
                className="mb-3",
            ),
            html.Div(id=USERS_FEEDBACK),
            dbc.Row([dbc.Col(_new_card(), lg=5), dbc.Col(_edit_card(), lg=7)], className="g-3"),
            dcc.Store(id=USERS_REFRESH, data=0),
        ]
    )


def _field(label: str, control: object, field: str, **col: object) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, html_for=getattr(control, "id", None)),
            control,
            dbc.FormFeedback(id=users_error(field), type="invalid"),
        ],
        **col,
    )


def _new_card() -> dbc.Card:
    mode = dbc.RadioItems(
        id=USERS_NEW_MODE,
        options=[
            {"label": "Set an initial password", "value": "password"},
            {"label": "Email a reset link", "value": "link"},
        ],
        value="password",
        inline=True,
        className="mb-2",
    )
    body = [
        dbc.Row(
            [
                _field(
                    "User name", dbc.Input(id=USERS_NEW_NAME, autocomplete="off"), "new-name", md=6
                ),
                _field(
                    "Role",
                    dbc.Select(id=USERS_NEW_ROLE, options=[], placeholder="Choose…"),
                    "new-role",
                    md=6,
                ),
            ],
            className="g-2 mb-2",
        ),
        _field(
            "Email",
            dbc.Input(
                id=USERS_NEW_EMAIL,
                type="email",
                placeholder="name@plant.example",
                autocomplete="off",
            ),
            "new-email",
            className="mb-2",
        ),
        mode,
        _field(
            "Initial password",
            dbc.Input(id=USERS_NEW_PASSWORD, type="password", autocomplete="new-password"),
            "new-password",
            className="mb-3",
        ),
        dbc.Button("Create user", id=USERS_CREATE, color="primary", type="button"),
    ]
    return dbc.Card(
        [dbc.CardHeader("New user"), dbc.CardBody(fields_form(body))], className="shadow-sm"
    )


def _edit_card() -> dbc.Card:
    shift = dbc.Row(
        [
            _field("Shift", dbc.Select(id=USERS_SHIFT, options=[], value="none"), "shift", md=6),
            _hour("Starts (hour)", USERS_SHIFT_START),
            _hour("Ends (hour)", USERS_SHIFT_END),
        ],
        className="g-2 mb-2",
    )
    body = [
        dbc.Row(
            [
                _field("Role", dbc.Select(id=USERS_ROLE, options=[]), "role", md=4),
                _field(
                    "Email",
                    dbc.Input(id=USERS_EMAIL, type="email", autocomplete="off"),
                    "email",
                    md=8,
                ),
            ],
            className="g-2 mb-2",
        ),
        dbc.Label("Skills (machine types this technician may be sent to)"),
        dbc.Checklist(id=USERS_SKILLS, options=[], value=[], inline=True),
        html.Div(id=users_error("skills"), className="text-danger small mb-2"),
        shift,
        dbc.Button("Save changes", id=USERS_SAVE, color="primary", disabled=True, type="button"),
        html.Hr(),
        html.H3("Sign-in", className="h6"),
        dbc.Row(
            [
                _field(
                    "Temporary password",
                    dbc.Input(id=USERS_TEMP_PASSWORD, type="password", autocomplete="new-password"),
                    "temp-password",
                    md=6,
                ),
                dbc.Col(
                    dbc.Button(
                        "Set password",
                        id=USERS_SET_PASSWORD,
                        color="secondary",
                        disabled=True,
                        type="button",
                    ),
                    md=3,
                    className="d-flex align-items-end",
                ),
            ],
            className="g-2 mb-2",
        ),
        html.Div(
            [
                dbc.Button(
                    "Email a reset link",
                    id=USERS_SEND_LINK,
                    color="outline-secondary",
                    className="me-2",
                    disabled=True,
                    type="button",
                ),
                dbc.Button(
                    "Sign out everywhere",
                    id=USERS_SIGN_OUT,
                    color="outline-danger",
                    className="me-2",
                    disabled=True,
                    type="button",
                ),
                dbc.Button(
                    "Deactivate", id=USERS_ACTIVE, color="danger", disabled=True, type="button"
                ),
            ]
        ),
        html.Div(id=users_error("active"), className="text-danger small mt-1"),
        html.P(
            "A new password, a reset link used, or deactivation signs the user out everywhere.",
            className="text-muted small mt-2 mb-0",
        ),
    ]
    header = dbc.CardHeader("Select a user in the grid", id=USERS_EDIT_TITLE)
    return dbc.Card([header, dbc.CardBody(fields_form(body))], className="shadow-sm", id=USERS_EDIT)


def _hour(label: str, component_id: str) -> dbc.Col:
    # no min/max in the browser: an hour out of range would reach the server as "empty"
    # (and read "Nothing to change."); the server says what is wrong beside the shift
    control = dbc.Input(id=component_id, type="number", placeholder="0-23", disabled=True)
    return dbc.Col([dbc.Label(label, html_for=component_id), control], md=3)


dash.register_page(
    __name__,
    layout=layout,
    path="/admin/users",
    name="Users",
    title="Users · Predictive maintenance",
    order=11,
    admin_menu=True,
    action=Action.USER_MANAGE,
)
