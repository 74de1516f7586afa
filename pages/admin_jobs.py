"""Jobs: the worker's scheduled jobs with their last runs; admins can run one now."""

import dash
from dash import dcc, html

from maintenance.people.permissions import Action
from web.views.admin_jobs import JOBS_FEEDBACK, JOBS_TABLE, JOBS_TICK


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Jobs", className="h4"),
            html.P(
                "What the worker's scheduler runs, when it last ran, how long it took and "
                "how it ended. Runs that changed nothing are not recorded.",
                className="text-muted",
            ),
            html.Div(id=JOBS_FEEDBACK),
            html.Div(id=JOBS_TABLE),
            dcc.Interval(id=JOBS_TICK, interval=5000),
        ]
    )


dash.register_page(
    __name__,
    layout=layout,
    path="/admin/jobs",
    name="Jobs",
    title="Jobs · Predictive maintenance",
    order=10,
    admin_menu=True,
    action=Action.JOB_VIEW,
)
