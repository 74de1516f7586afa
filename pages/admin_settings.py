"""Settings: the values an admin may change without a restart (managers may look)."""

import dash
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.admin_settings import SETTINGS_FEEDBACK, SETTINGS_REFRESH, SETTINGS_TABLE


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Settings", className="h4"),
            html.P(
                "Changes apply to every process within a few seconds, no restart; each is in "
                "the audit log. Reset returns a value to its default: the environment's, or, "
                "for the failure alarm threshold, the one the active model's training chose "
                "where the environment sets none.",
                className="text-muted",
            ),
            html.Div(id=SETTINGS_FEEDBACK),
            html.Div(id=SETTINGS_TABLE),
            dcc.Store(id=SETTINGS_REFRESH, data=0),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/admin/settings",
    name="Settings",
    title="Settings · Predictive maintenance",
    order=9,
    admin_menu=True,
    action=Action.SETTINGS_VIEW,
)
