"""Callbacks of the model lab's tune section (engineers and admins): the labelled history is
swept once per score (``ml.lab.tune.tuning_view``, about 0.15 s on 50,000 windows) into a
small store; moving the slider is then a look-up in it and a patch of the figures."""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx, html

from config import Settings
from data.db import Database
from maintenance.ops.app_settings import SettingError
from maintenance.ops.threshold_tuning import THRESHOLD_SETTING, current_thresholds, save_threshold
from maintenance.people.permissions import Action
from ml.alarm_policy import CLEAR_RATIO
from ml.lab.tune import COLUMNS, TuningView, tuning_view
from web.server.auth import AccessDenied, require
from web.views import lab_tune as v
from web.views import lab_tune_figures as figs
from web.views.lab_models import LAB_TABS, TUNE_TAB
from web.views.lab_tune import LAB_TUNE_SAVED_NOTE

_ALARM = {"prob": "failure alarm", "anomaly": "anomaly warning"}
_SHOWN, _HIDDEN = {}, {"display": "none"}


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    @app.callback(
        Output(v.DATA, "data"),
        Output(v.SOURCE, "children"),
        Output(v.EMPTY, "children"),
        Output(v.BODY, "style"),
        Output(v.SLIDER, "value"),
        Output(v.SAVED, "children"),
        Input(v.SCORE, "value"),
        Input(v.REFRESH, "data"),
        Input(LAB_TABS, "active_tab"),
        State(v.DATA, "data"),
    )
    def load(column: str, _refresh: int, tab: str | None, loaded: dict | None) -> tuple:
        """The tab's data, read when the tab is first opened (a load of the lab draws the
        explore tab only: the tune tab's three figures waited hidden) and on every change."""
        require(Action.LAB_USE)
        if tab != TUNE_TAB and (ctx.triggered_id in (None, LAB_TABS)):
            raise dash.exceptions.PreventUpdate
        if ctx.triggered_id == LAB_TABS and loaded is not None:
            raise dash.exceptions.PreventUpdate
        column = column if column in COLUMNS else "prob"
        with db.session() as s:
            saved = current_thresholds(session=s, settings=settings)
            view = tuning_view(
                session=s, column=column, extra_thresholds=[saved[THRESHOLD_SETTING[column]]]
            )
        if view is None:
            return None, "", v.empty_note(), _HIDDEN, dash.no_update, ""
        threshold = saved[THRESHOLD_SETTING[column]]
        data = _store(view, threshold, saved["failure_clear_below"])
        # after a save the slider already sits on the saved value: left alone, the message
        # about the save stays (moving the slider clears it)
        slider = dash.no_update if ctx.triggered_id == v.REFRESH else threshold
        source = _source(view, settings.live_time_scale)
        return data, source, None, _SHOWN, slider, _saved_text(column, saved)

    @app.callback(
        Output(v.KPIS, "children"),
        Output(v.CONFUSION, "figure"),
        Output(v.PR, "figure"),
        Output(v.TRADEOFF, "figure"),
        Output(v.SAVE, "children"),
        Output(v.CLEAR_NOTE, "children"),
        Output(v.CLEAR_BOX, "style"),
        Output(v.ERROR, "children", allow_duplicate=True),
        Output(v.FEEDBACK, "children", allow_duplicate=True),
        Input(v.SLIDER, "value"),
        Input(v.DATA, "data"),
        Input(v.MOVE_CLEAR, "value"),
        prevent_initial_call=True,
    )
    def move(value: float | None, data: dict | None, move_clear: bool) -> tuple:
        require(Action.LAB_USE)
        if not data or value is None:
            raise dash.exceptions.PreventUpdate
        row = min(data["rows"], key=lambda r: abs(r["threshold"] - value))
        t = float(value)
        rebuild = any(p.startswith(v.DATA + ".") for p in ctx.triggered_prop_ids)
        scale = settings.live_time_scale  # backtests replay model time
        figures = _figures(data, row, t) if rebuild else _patches(data, row, t)
        cards = v.kpi_cards(
            row,
            horizon_h=data["horizon_h"],
            min_lead_h=data["min_lead_h"],
            time_scale=scale,
        )
        note, box = _clear_note(data, t, bool(move_clear))
        label = f"Save {t:.2f} as the {_ALARM[data['column']]} threshold"
        touched = {f"{v.SLIDER}.value", f"{v.MOVE_CLEAR}.value"} & set(ctx.triggered_prop_ids)
        messages = ("", None) if touched else (dash.no_update, dash.no_update)
        return cards, *figures, label, note, box, *messages

    @app.callback(
        Output(v.ERROR, "children"),
        Output(v.FEEDBACK, "children"),
        Output(v.REFRESH, "data"),
        Input(v.SAVE, "n_clicks"),
        State(v.SLIDER, "value"),
        State(v.SCORE, "value"),
        State(v.MOVE_CLEAR, "value"),
        State(v.REFRESH, "data"),
        prevent_initial_call=True,
    )
    def save(
        clicks: int | None, value: float | None, column: str, move_clear: bool, refresh: int
    ) -> tuple:
        try:
            user = require(Action.LAB_USE)
        except AccessDenied as exc:
            return str(exc), None, dash.no_update
        if not clicks or value is None:
            raise dash.exceptions.PreventUpdate
        column = column if column in COLUMNS else "prob"
        try:
            with db.session() as s:
                saved = save_threshold(
                    session=s,
                    settings=settings,
                    column=column,
                    value=round(float(value), 4),
                    move_clear=bool(move_clear),
                    user_id=user.id,
                )
        except SettingError as exc:
            return str(exc), None, dash.no_update
        moved = f", its clear level {saved.clear_below:g}" if saved.clear_below is not None else ""
        text = (
            f"Saved: the {_ALARM[column]} threshold is now {saved.value:g}{moved} (recorded in "
            "the audit log); every process uses it within seconds."
        )
        note = dbc.Alert(
            text, color="success", dismissable=True, className="py-2 mb-0", id=LAB_TUNE_SAVED_NOTE
        )
        return "", note, (refresh or 0) + 1


def _clean(value: Any) -> Any:
    """JSON for the store: NaN (no alarms, nothing caught) becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _store(view: TuningView, saved: float, clear_below: float) -> dict:
    rows = [
        {k: _clean(x.item() if hasattr(x, "item") else x) for k, x in r.items()}
        for r in view.sweep.to_dict("records")
    ]
    return {
        "column": view.column,
        "horizon_h": view.horizon_h,
        "min_lead_h": view.min_lead_h,
        "saved": saved,
        "clear_below": clear_below,
        "rows": rows,
        "pr": {
            "recall": view.pr.recall,
            "precision": view.pr.precision,
            "thresholds": view.pr.thresholds,
            "average_precision": _clean(view.pr.average_precision),
        },
    }


def _window_point(row: dict) -> tuple[float | None, float | None]:
    tp, fp, fn = row["tp"], row["fp"], row["fn"]
    return (tp / (tp + fn) if tp + fn else None, tp / (tp + fp) if tp + fp else None)


def _figures(data: dict, row: dict, t: float) -> tuple[dict, dict, dict]:
    horizon = v.model_hours(data["horizon_h"], 1.0)  # short: the source line says its clock
    return (
        figs.confusion_figure(row, t, horizon),
        figs.pr_figure(data["pr"], _window_point(row), t),
        figs.tradeoff_figure(data["rows"], t, data["saved"]),
    )


def _patches(data: dict, row: dict, t: float) -> tuple[Patch, Patch, Patch]:
    """Only what a slider move changes: the heatmap's cells, the marker, the red line."""
    confusion = Patch()
    for key, value in figs.confusion_cells(row, t).items():
        confusion["data"][0][key] = value
    pr = Patch()
    for key, value in figs.pr_marker(_window_point(row), t).items():
        pr["data"][1][key] = value
    tradeoff = Patch()
    tradeoff["layout"]["shapes"][0]["x0"] = t
    tradeoff["layout"]["shapes"][0]["x1"] = t
    return confusion, pr, tradeoff


def _clear_note(data: dict, t: float, move_clear: bool) -> tuple[Any, dict]:
    """What saving does to the failure alarm's clear level, and a warning when the save
    would be refused (the clear level must stay below the threshold)."""
    if data["column"] != "prob":
        return "", _HIDDEN
    clear, replayed = data["clear_below"], CLEAR_RATIO * t
    if move_clear and round(replayed, 2) == round(clear, 2):
        return f"The clear level is already {clear:.2f}, as replayed here.", _SHOWN
    if move_clear:
        text = f"Clear level {clear:.2f} → {replayed:.2f}: live alarms then hold as replayed here."
        return text, _SHOWN
    if t <= clear:
        return (
            html.Span(
                f"{t:.2f} is not above the current clear level {clear:.2f}: saving would be "
                "refused. Tick the box, or lower the clear level in Settings first.",
                className="text-warning-emphasis",
            ),
            _SHOWN,
        )
    return f"The clear level stays {clear:.2f} (the replay here assumes {replayed:.2f}).", _SHOWN


def _saved_text(column: str, saved: dict[str, float]) -> str:
    if column == "prob":
        return (
            f"Saved setting: failure alarm at {saved['failure_threshold']:.2f}, clears below "
            f"{saved['failure_clear_below']:.2f} (grey dotted line)"
        )
    return f"Saved setting: anomaly warning at {saved['anomaly_threshold']:.2f} (grey dotted line)"


def _source(view: TuningView, time_scale: float) -> str:
    version = f" v{view.version}" if view.version is not None else ""
    finished = f" ({view.finished_at:%Y-%m-%d %H:%M})" if view.finished_at else ""
    return (
        f"{view.model.capitalize()} {COLUMNS[view.column]} model{version} · "
        f"{view.run_kind} #{view.run_id}{finished} on {view.source} · "
        f"{view.failures} failures, {view.windows:,} windows scored · "
        f"horizon H = {v.model_hours(view.horizon_h, time_scale, live=True)}"
    )
