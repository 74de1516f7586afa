"""Callbacks of the model lab's train / backtest / promote section (engineers and admins):
runs are queued here and run by the worker; this page follows their rows."""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html
from sqlalchemy import select

from config import Settings
from data.db import Database
from data.models import LabRun, LabRunStatus, ModelStatus, ModelVersion, User
from maintenance.permissions import Action
from ml.lab.backtest import has_backtest, promote_pair
from ml.lab.labels import new_labels_since
from ml.lab.pairs import Pair, family_name, model_pairs
from ml.lab.params import LabError
from ml.lab.queue import queue_run
from ml.registry import rollback
from web.server.auth import AccessDenied, require
from web.views import lab_models as v

_TRAIN_FIELDS = ("source", "machines", "days", "seed", "window", "horizon_h", "epochs")
_BACKTEST_FIELDS = ("source", "machines", "days", "seed")
_TRAIN_EXTRA = ("contamination", "features", "family")
_ERROR_FIELDS = [("train", f) for f in (*_TRAIN_FIELDS, *_TRAIN_EXTRA)] + [
    ("backtest", f) for f in ("pair", *_BACKTEST_FIELDS)
]
_STATUS_COLOUR = {"queued": "secondary", "running": "info", "done": "success", "failed": "danger"}


def _when(t: datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S}" if t else "—"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "—" if x is None else fmt.format(x)


def _header(session, pairs: list[Pair]) -> list:  # noqa: ANN001
    active = next((p for p in pairs if p.status == "active"), None)
    trained = session.scalar(
        select(ModelVersion.created_at).where(
            ModelVersion.kind == "failure", ModelVersion.status == ModelStatus.ACTIVE
        )
    )
    labels = new_labels_since(session=session, since=trained)
    badge = (
        dbc.Badge(f"Active: {active.label}", color="success", className="me-2")
        if active
        else dbc.Badge("No active model: threshold rules only", color="secondary", className="me-2")
    )
    detail = (
        f"{labels['confirmed']} confirmed failures, {labels['false_alarms']} false alarms, "
        f"{labels['breakdowns']} recorded breakdowns"
    )
    return [
        badge,
        dbc.Badge(
            f"{labels['total']} new labels since the active model was trained",
            color="warning" if labels["total"] else "light",
            text_color="dark",
            className="me-1",
            id="lab-new-labels",
        ),
        html.Span(f"({detail}; retraining uses them)", className="small text-muted"),
    ]


def _loss_figure(run: LabRun | None) -> dict:
    curve = (run.curve if run else None) or []
    epochs = [p["epoch"] for p in curve]
    keys = sorted({k for p in curve for k in p if k != "epoch"}, key=lambda k: k != "loss")
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "total loss" if key == "loss" else key.replace("_", " "),
            "x": epochs,
            "y": [p.get(key) for p in curve],
        }
        for key in keys
    ]
    if not traces:  # an empty state, not empty axes
        return {
            "data": [],
            "layout": {
                "xaxis": {"visible": False},
                "yaxis": {"visible": False},
                "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
                "annotations": [
                    {
                        "text": "No lab training run yet:<br>its loss curve will draw here",
                        "showarrow": False,
                        "font": {"color": "#6c757d"},
                        "xref": "paper",
                        "yref": "paper",
                    }
                ],
            },
        }
    title = f"Loss per epoch, run #{run.id}"
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "font": {"size": 13}, "x": 0.02},
            "margin": {"l": 40, "r": 10, "t": 30, "b": 70},
            "xaxis": {"title": {"text": "epoch"}, "dtick": 1},
            "legend": {"orientation": "h", "y": -0.45},
            "uirevision": "loss",
        },
    }


def _progress(run: LabRun | None) -> object:
    if run is None:
        return html.Div("No run yet: start a training run.", className="text-muted small mb-2")
    running = run.status in (LabRunStatus.QUEUED, LabRunStatus.RUNNING)
    return html.Div(
        [
            html.Div(
                f"#{run.id} {run.kind} · {run.status.value}"
                + ("" if run.stage in ("done", run.status.value) else f" · {run.stage}"),
                className="small mb-1",
                id="lab-run-stage",
            ),
            dbc.Progress(
                value=round(100 * run.progress),
                label=f"{100 * run.progress:.0f} %",
                striped=running,
                animated=running,
                color=_STATUS_COLOUR[run.status.value],
                className="mb-2",
            ),
            html.Div(run.error, className="text-danger small") if run.error else None,
        ]
    )


def _summary(run: LabRun) -> str:
    r = run.result or {}
    if run.kind == "train" and "versions" in r:
        v = r["versions"]
        return f"anomaly v{v['anomaly']} + failure v{v['failure']} ({family_name(r.get('family'))})"
    if "metrics" in r:
        c = r["metrics"]["candidate"]
        return f"recall {_pct(c.get('recall'))}, precision {_pct(c.get('precision'))}"
    return run.error[:60] if run.error else ""


def _runs_table(runs: list[LabRun], names: dict[int, str]) -> object:
    if not runs:
        return None
    rows = [
        html.Tr(
            [
                html.Td(f"#{r.id}"),
                html.Td(r.kind),
                html.Td(dbc.Badge(r.status.value, color=_STATUS_COLOUR[r.status.value])),
                html.Td(names.get(r.created_by, "scheduler")),
                html.Td(_when(r.created_at)),
                html.Td(_summary(r), className="small"),
            ]
        )
        for r in runs
    ]
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Run", "Kind", "Status", "By", "Queued", "Result")])
    )
    return dbc.Table(
        [head, html.Tbody(rows)], size="sm", hover=True, className="small mb-0", id="lab-runs-table"
    )


def _comparison(run: LabRun | None, pair: Pair | None) -> object:
    if pair is None:
        return None
    if run is None:
        return dbc.Alert(
            f"No backtest of {pair.label} on record yet: it cannot be promoted before one.",
            color="light",
            className="py-2 small",
            id="lab-compare-empty",
        )
    metrics = run.result.get("metrics", {})
    models = [m for m in ("candidate", "active") if m in metrics]
    names = {"candidate": pair.label, "active": "active pair"}
    if "active" in run.result.get("versions", {}):
        a = run.result["versions"]["active"]
        names["active"] = f"active: anomaly v{a['anomaly']} + failure v{a['failure']}"
    lines = [
        ("Failures caught", lambda m: f"{m['caught']} of {m['failures']}"),
        ("Recall", lambda m: _pct(m.get("recall"))),
        ("Precision", lambda m: _pct(m.get("precision"))),
        ("Alarms raised", lambda m: str(m["raised"])),
        ("False alarms", lambda m: str(m["false_alarms"])),
        ("False alarms per machine-week", lambda m: _num(m.get("false_alarms_per_machine_week"))),
        ("Median lead time", lambda m: _num(m.get("median_lead_h"), "{:.1f} h")),
    ]
    body = [
        html.Tr([html.Th(label)] + [html.Td(fmt(metrics[m])) for m in models])
        for label, fmt in lines
    ]
    verdict = (
        dbc.Badge("beats the active pair", color="success")
        if run.result.get("beats_active") and "active" in metrics
        else dbc.Badge("no better than the active pair", color="warning", text_color="dark")
        if "active" in metrics
        else dbc.Badge("nothing active to compare with", color="light", text_color="dark")
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Span(
                        f"Backtest #{run.id} on {run.result.get('data', '')}, threshold "
                        f"{run.result.get('threshold', 0.8):.2f} ",
                        className="small me-2",
                    ),
                    verdict,
                    html.A(
                        "report (CSV)",
                        href=f"/lab/backtest/{run.id}.csv",
                        className="small ms-3",
                        id="lab-backtest-csv",
                    ),
                    html.A(
                        "scores (Parquet)",
                        href=f"/lab/backtest/{run.id}/scores.parquet",
                        className="small ms-2",
                    ),
                ],
                className="mb-1",
            ),
            dbc.Table(
                [
                    html.Thead(html.Tr([html.Th("")] + [html.Th(names[m]) for m in models])),
                    html.Tbody(body),
                ],
                bordered=True,
                size="sm",
                className="small",
                id="lab-compare-table",
            ),
        ]
    )


def _note(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="py-2", dismissable=True)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(v.LAB_HEADER, "children"),
        Output(v.PROGRESS, "children"),
        Output(v.LOSS, "figure"),
        Output(v.RUNS, "children"),
        Output(v.PAIR, "options"),
        Output(v.PAIR, "value"),
        Output(v.COMPARE, "children"),
        Input(v.TICK, "n_intervals"),
        Input(v.REFRESH, "data"),
        Input(v.PAIR, "value"),
        State(v.PAIR, "options"),
    )
    def show(_n: int, _refresh: int, chosen: str | None, shown: list | None) -> tuple:
        require(Action.LAB_USE)
        with db.session() as s:
            pairs = model_pairs(session=s)
            runs = s.scalars(select(LabRun).order_by(LabRun.id.desc()).limit(8)).all()
            names = dict(s.execute(select(User.id, User.username)).all())
            latest_train = next(
                (r for r in runs if r.kind in ("train", "retrain") and r.curve), None
            )
            latest = runs[0] if runs else None
            keys = [p.key for p in pairs]
            if shown and len(shown) != len(keys) and keys:
                chosen = keys[0]  # a pair just appeared (a training run ended): show it
            if chosen not in keys:
                chosen = next(
                    (p.key for p in pairs if p.status == "candidate"), keys[0] if keys else None
                )
            pair = next((p for p in pairs if p.key == chosen), None)
            backtest = has_backtest(s, pair.versions) if pair else None
            options = [
                {"label": f"{p.label} · {p.status} · {p.created_at:%Y-%m-%d %H:%M}", "value": p.key}
                for p in pairs
            ]
            return (
                _header(s, pairs),
                _progress(latest),
                _loss_figure(latest_train),
                _runs_table(runs, names),
                options,
                chosen,
                _comparison(backtest, pair),
            )

    train_states = [State(v.field_id("train", f), "value") for f in (*_TRAIN_FIELDS, *_TRAIN_EXTRA)]
    bt_states = [State(v.field_id("backtest", f), "value") for f in _BACKTEST_FIELDS]
    errors = [Output(v.field_id(form, f) + "-error", "children") for form, f in _ERROR_FIELDS]

    @app.callback(
        Output(v.FEEDBACK, "children"),
        Output(v.REFRESH, "data"),
        *errors,
        Input(v.TRAIN, "n_clicks"),
        Input(v.BACKTEST, "n_clicks"),
        Input(v.PROMOTE, "n_clicks"),
        Input(v.ROLLBACK, "n_clicks"),
        State(v.PAIR, "value"),
        *train_states,
        *bt_states,
        State(v.REFRESH, "data"),
        prevent_initial_call=True,
    )
    def act(*args: object) -> tuple:
        pair_key = args[4]
        n = len(_TRAIN_FIELDS) + len(_TRAIN_EXTRA)
        train_values = dict(zip((*_TRAIN_FIELDS, *_TRAIN_EXTRA), args[5 : 5 + n], strict=True))
        bt_values = dict(zip(_BACKTEST_FIELDS, args[5 + n : 9 + n], strict=True))
        refresh = int(args[9 + n] or 0) + 1
        no_errors = [""] * len(_ERROR_FIELDS)
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        try:
            user = require(Action.LAB_USE)
        except AccessDenied as exc:
            return (_note(str(exc), "danger"), dash.no_update, *no_errors)
        action = ctx.triggered_id
        form = "train" if action == v.TRAIN else "backtest"
        try:
            with db.session() as s:
                pair = _pair(pair_key)
                if action == v.TRAIN:
                    run = queue_run(session=s, kind="train", params=train_values, user_id=user.id)
                    text = f"Training run #{run.id} queued: progress follows on the right."
                elif action == v.BACKTEST:
                    if pair is None:
                        raise LabError("Pick a model pair to backtest.", "pair")
                    run = queue_run(
                        session=s,
                        kind="backtest",
                        params=bt_values,
                        user_id=user.id,
                        anomaly_version=pair["anomaly"],
                        failure_version=pair["failure"],
                    )
                    text = (
                        f"Backtest #{run.id} queued for anomaly v{pair['anomaly']} + "
                        f"failure v{pair['failure']}."
                    )
                elif action == v.PROMOTE:
                    if pair is None:
                        raise LabError("Pick a model pair to promote.", "pair")
                    run = promote_pair(session=s, pair=pair, user_id=user.id)
                    text = (
                        f"Promoted anomaly v{pair['anomaly']} + failure v{pair['failure']} "
                        f"(backtest #{run.id} on record). The worker scores with it within seconds."
                    )
                else:
                    back = [
                        rollback(session=s, kind=k, user_id=user.id) for k in ("anomaly", "failure")
                    ]
                    if not any(back):
                        raise LabError("There is no earlier active model to roll back to.", "pair")
                    text = (
                        "Rolled back to "
                        + " + ".join(f"{m.kind} v{m.version}" for m in back if m)
                        + "."
                    )
        except LabError as exc:
            field = {"candidate": "pair"}.get(exc.field, exc.field)
            shown = [str(exc) if (fm, f) == (form, field) else "" for fm, f in _ERROR_FIELDS]
            if not any(shown):
                return (_note(str(exc), "danger"), refresh, *shown)
            return (dash.no_update, refresh, *shown)
        return (_note(text, "success"), refresh, *no_errors)


def _pair(key: str | None) -> dict | None:
    if not key or ":" not in key:
        return None
    anomaly, failure = key.split(":", 1)
    return {"anomaly": int(anomaly), "failure": int(failure)}
