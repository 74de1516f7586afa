"""Callbacks of the model lab's train / backtest / promote section (engineers and admins):
runs are queued here and run by the worker; this page follows their rows."""

from __future__ import annotations

import hashlib

import dash
from dash import Input, Output, State, ctx
from plotly.io.json import to_json_plotly
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from data.db import Database
from data.models import LabRun, ModelStatus, ModelVersion, User
from maintenance.people.permissions import Action
from ml.lab.backtest import has_backtest, promote_pair
from ml.lab.labels import new_labels_since
from ml.lab.pairs import model_pairs
from ml.lab.params import LabError
from ml.lab.queue import queue_run
from ml.registry import rollback
from web.server.auth import AccessDenied, require
from web.views import lab_models as v
from web.views import lab_models_runs as runs_view

_TRAIN_FIELDS = ("source", "machines", "days", "seed", "window", "horizon_h", "epochs")
_BACKTEST_FIELDS = ("source", "machines", "days", "seed")
_TRAIN_EXTRA = ("contamination", "features", "family")
_ERROR_FIELDS = [("train", f) for f in (*_TRAIN_FIELDS, *_TRAIN_EXTRA)] + [
    ("backtest", f) for f in ("pair", *_BACKTEST_FIELDS)
]


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(v.LAB_HEADER, "children"),
        Output(v.PROGRESS, "children"),
        Output(v.LOSS, "figure"),
        Output(v.RUNS, "children"),
        Output(v.PAIR, "options"),
        Output(v.PAIR, "value"),
        Output(v.COMPARE, "children"),
        Output(v.SHOWN, "data"),
        Input(v.TICK, "n_intervals"),
        Input(v.REFRESH, "data"),
        Input(v.PAIR, "value"),
        Input(v.LAB_TABS, "active_tab"),
        State(v.PAIR, "options"),
        State(v.SHOWN, "data"),
    )
    def show(
        _n: int,
        _refresh: int,
        chosen: str | None,
        tab: str | None,
        shown: list | None,
        digest: str | None,
    ) -> tuple:
        """The section as it is, drawn once its tab is open (before, the header alone: a load
        of the lab draws the explore tab, not this one's figure and tables hidden); a tick
        that would draw the same again draws nothing (the page stays quiet between runs
        instead of redrawing every 1.5 s)."""
        require(Action.LAB_USE)
        if tab == v.MODELS_TAB:
            drawn: tuple = _section(chosen, shown)
        else:
            with db.session() as s:
                drawn = (_header(s, model_pairs(session=s)),) + (dash.no_update,) * 6
        now = hashlib.md5(to_json_plotly(drawn).encode(), usedforsecurity=False).hexdigest()
        if ctx.triggered_id == v.TICK and now == digest:
            raise dash.exceptions.PreventUpdate
        return (*drawn, now)

    def _header(s: Session, pairs: list) -> object:
        active = next((p for p in pairs if p.status == "active"), None)
        return runs_view.header(active, _labels_since_active(s))

    def _section(chosen: str | None, shown: list | None) -> tuple:
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
                runs_view.progress(latest),
                runs_view.loss_figure(latest_train),
                runs_view.runs_table(runs, names),
                options,
                chosen,
                runs_view.comparison(backtest, pair),
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
            return (runs_view.note(str(exc), "danger"), dash.no_update, *no_errors)
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
            messages = {
                {"candidate": "pair"}.get(field, field): message
                for field, message in exc.messages.items()
            }
            shown = [messages.get(f, "") if fm == form else "" for fm, f in _ERROR_FIELDS]
            if not any(shown):
                return (runs_view.note(str(exc), "danger"), refresh, *shown)
            return (dash.no_update, refresh, *shown)
        return (runs_view.note(text, "success"), refresh, *no_errors)


def _labels_since_active(session: Session) -> dict[str, int]:
    """The closed loop's labels gathered since the active failure model was trained."""
    trained = session.scalar(
        select(ModelVersion.created_at).where(
            ModelVersion.kind == "failure", ModelVersion.status == ModelStatus.ACTIVE
        )
    )
    return new_labels_since(session=session, since=trained)


def _pair(key: str | None) -> dict | None:
    if not key or ":" not in key:
        return None
    anomaly, failure = key.split(":", 1)
    return {"anomaly": int(anomaly), "failure": int(failure)}
