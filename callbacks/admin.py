"""Administration: the settings table (change, reset) and the jobs table (run now)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html

from config import Settings
from data.db import Database
from maintenance.ops.app_settings import (
    EDITABLE,
    SettingError,
    SettingRow,
    change_setting,
    reset_setting,
    setting_rows,
)
from maintenance.ops.scheduled_jobs import JobSummary, job_summaries, request_run
from maintenance.people.permissions import Action, allowed
from web.server.auth import AccessDenied, require
from web.server.input_kinds import BadInput
from web.views.admin_jobs import JOB_RUN, JOBS_FEEDBACK, JOBS_TABLE, JOBS_TICK, job_run
from web.views.admin_settings import (
    ADMIN_NOTE,
    SETTING_ERROR,
    SETTING_INPUT,
    SETTING_RESET,
    SETTING_SAVE,
    SETTINGS_FEEDBACK,
    SETTINGS_REFRESH,
    SETTINGS_TABLE,
    setting_field,
)
from web.views.components import age


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(SETTINGS_TABLE, "children"),
        Input(SETTINGS_REFRESH, "data"),
    )
    def table(_refresh: int) -> html.Div:
        user = require(Action.SETTINGS_VIEW)
        with db.session() as s:
            rows = setting_rows(session=s, settings=settings)
        return _settings_table(rows, editable=allowed(user.role, Action.SETTINGS_EDIT))

    @app.callback(
        Output(SETTINGS_FEEDBACK, "children"),
        Output(SETTINGS_REFRESH, "data"),
        Output({"type": SETTING_ERROR, "key": ALL}, "children"),
        Output({"type": SETTING_INPUT, "key": ALL}, "invalid"),
        Input({"type": SETTING_SAVE, "key": ALL}, "n_clicks"),
        Input({"type": SETTING_RESET, "key": ALL}, "n_clicks"),
        State({"type": SETTING_INPUT, "key": ALL}, "value"),
        State(SETTINGS_REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(_saves: list, _resets: list, values: list, refresh: int) -> tuple:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        keys = [o["id"]["key"] for o in ctx.outputs_list[2]]
        quiet = ([""] * len(keys), [False] * len(keys))
        try:
            user = require(Action.SETTINGS_EDIT)
        except AccessDenied as exc:
            return _note(str(exc), "warning"), dash.no_update, *quiet
        key = ctx.triggered_id["key"]
        if key not in keys:
            raise BadInput("the setting is not on the page")
        try:
            with db.session() as s:
                spec = EDITABLE[key]  # people read the setting's name, not its key
                if ctx.triggered_id["type"] == SETTING_RESET:
                    reset_setting(session=s, settings=settings, key=key, user_id=user.id)
                    text = f"{spec.label} is back to its default."
                else:
                    raw = values[keys.index(key)]
                    value = change_setting(
                        session=s, settings=settings, key=key, raw=raw, user_id=user.id
                    )
                    unit = f" {spec.unit}" if spec.unit else ""
                    text = (
                        f"{spec.label} is now {value:g}{unit}; "
                        "every process uses it within seconds."
                    )
        except SettingError as err:
            errors = [str(err) if k == key else "" for k in keys]
            return "", dash.no_update, errors, [k == key for k in keys]
        return _note(text, "success"), (refresh or 0) + 1, *quiet

    @app.callback(
        Output(JOBS_TABLE, "children"),
        Input(JOBS_TICK, "n_intervals"),
    )
    def jobs(_n: int) -> html.Div:
        user = require(Action.JOB_VIEW)
        with db.session() as s:
            rows = job_summaries(session=s)
        return _jobs_table(rows, can_run=allowed(user.role, Action.JOB_RUN))

    @app.callback(
        Output(JOBS_FEEDBACK, "children"),
        Input({"type": JOB_RUN, "job": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def run_now(_clicks: list) -> dbc.Alert:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        try:
            user = require(Action.JOB_RUN)
        except AccessDenied as exc:
            return _note(str(exc), "warning")
        job = ctx.triggered_id["job"]
        with db.session() as s:
            asked = request_run(session=s, job=job, user_id=user.id)
        if not asked:
            return _note(f"{job} is already waiting to run.", "info")
        return _note(f"{job} will run within a few seconds.", "success")


def _note(text: str, color: str) -> dbc.Alert:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2", id=ADMIN_NOTE)


def _settings_table(rows: list[SettingRow], *, editable: bool) -> dbc.Table:
    body = []
    for r in rows:
        control = dbc.InputGroup(
            [
                dbc.Input(
                    id=setting_field(SETTING_INPUT, r.key),
                    value=str(r.value),
                    type="text",
                    disabled=not editable,
                    size="sm",
                ),
                *([dbc.InputGroupText(r.spec.unit)] if r.spec.unit else []),
                dbc.FormFeedback(id=setting_field(SETTING_ERROR, r.key), type="invalid"),
            ],
            size="sm",
            className="has-validation",
        )
        actions = (
            [
                dbc.Button(
                    "Save",
                    id=setting_field(SETTING_SAVE, r.key),
                    size="sm",
                    className="me-1",
                ),
                dbc.Button(
                    "Reset",
                    id=setting_field(SETTING_RESET, r.key),
                    size="sm",
                    color="outline-secondary",
                    disabled=not r.overridden,
                ),
            ]
            if editable
            else []
        )
        origin = (
            "changed in the app"
            if r.overridden
            else "chosen in the active model's training"
            if r.chosen_by_model
            else "from the environment"
        )
        body.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Div(r.spec.label, className="fw-semibold"),
                            html.Small(r.spec.help, className="text-muted"),
                        ]
                    ),
                    html.Td(control, style={"width": "220px"}),
                    html.Td(
                        html.Small(f"default {r.default:g} · {origin}", className="text-muted")
                    ),
                    html.Td(actions, className="text-nowrap"),
                ],
                id=f"setting-row-{r.key}",
            )
        )
    return dbc.Table([html.Tbody(body)], className="align-middle", hover=True)


def _last_run(j: JobSummary) -> list[object] | str:
    """When, and on which worker (several workers: the fleet jobs' lease holder)."""
    if not j.last_started:
        return "—"
    on = [html.Div(html.Small(f"on {j.last_worker}", className="text-muted text-nowrap"))]
    return [f"{age(j.last_started)} ago", *(on if j.last_worker else [])]


def _jobs_table(rows: list[JobSummary], *, can_run: bool) -> dbc.Table:
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Job",
                    "Schedule",
                    "Last run",
                    "Took",
                    "Outcome",
                    "Runs / failures 24 h",
                    "",
                )
            ]
        )
    )
    body = []
    for j in rows:
        if j.last_ok is None:
            outcome = html.Span("not run yet", className="text-muted")
        elif j.last_ok:
            n = j.last_items
            outcome = dbc.Badge(f"ok, {n} item{'' if n == 1 else 's'}", color="success")
        else:
            outcome = html.Span(
                [
                    dbc.Badge("failed", color="danger", className="me-1"),
                    html.Small(j.last_error[:160]),
                ]
            )
        run = (
            dbc.Button(
                "Waiting…" if j.requested else "Run now",
                id=job_run(j.job),
                size="sm",
                color="outline-primary",
                disabled=j.requested,
            )
            if can_run
            else ""
        )
        body.append(
            html.Tr(
                [
                    html.Td(
                        [html.Code(j.job), html.Div(html.Small(j.what, className="text-muted"))]
                    ),
                    html.Td(j.when),
                    html.Td(_last_run(j)),
                    html.Td(f"{j.last_ms:,.0f} ms" if j.last_ms is not None else "—"),
                    html.Td(outcome),
                    html.Td(f"{j.runs_24h} / {j.failures_24h}"),
                    html.Td(run),
                ],
                id=f"job-row-{j.job}",
            )
        )
    return dbc.Table([head, html.Tbody(body)], className="align-middle", hover=True)
