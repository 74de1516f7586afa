"""Model-health page: the machine types, then one type's drift, realised quality and the
active models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State

from config import Settings
from data.db import Database
from maintenance.model_health.health_view import (
    ActiveModel,
    active_models,
    drift_history,
    drifted_period,
    latest_check,
    machine_names,
    machine_types,
)
from maintenance.model_health.realised_quality import realised_quality
from maintenance.ops.app_settings import Overrides
from maintenance.people.permissions import Action
from web.server.auth import AccessDenied, require
from web.views.model_health import (
    MH_DISTRIBUTIONS,
    MH_HEATMAP,
    MH_LAB,
    MH_MODELS,
    MH_NOTE,
    MH_QUALITY,
    MH_TYPE,
    distributions_figure,
    heatmap_figure,
    lab_note,
    machine_note,
    models_card,
    quality_table,
)
from web.views.shell import URL

HISTORY = timedelta(days=14)
PERIODS = (30, 90)


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    overrides = Overrides(settings, db)

    @app.callback(
        Output(MH_TYPE, "options"),
        Output(MH_TYPE, "value"),
        Input(URL, "search"),
        State(MH_TYPE, "value"),
    )
    def types(search: str | None, chosen: str | None) -> tuple:
        """The types to choose from; the address's ``?type=`` (the drift alarm's link) first.
        A role that may not see the page gets none (the page's callback says why)."""
        try:
            require(Action.MODEL_HEALTH_VIEW)
        except AccessDenied:
            return [], None
        with db.session() as s:
            kinds = machine_types(session=s)
        asked = parse_qs((search or "").lstrip("?")).get("type", [None])[0]
        for pick in (asked, chosen):
            if pick in kinds:
                return kinds, pick
        return kinds, kinds[0] if kinds else None

    @app.callback(
        Output(MH_MODELS, "children"),
        Output(MH_QUALITY, "children"),
        Output(MH_HEATMAP, "figure"),
        Output(MH_DISTRIBUTIONS, "figure"),
        Output(MH_LAB, "children"),
        Output(MH_NOTE, "children"),
        Input(MH_TYPE, "value"),
    )
    def show(kind: str | None) -> tuple:
        try:
            require(Action.MODEL_HEALTH_VIEW)
        except AccessDenied as err:
            return "", "", {}, {}, "", dbc.Alert(str(err), color="warning")
        if not kind:
            return "", "", {}, {}, "", "No machine types yet."
        now, current = datetime.now(UTC), overrides.current()
        with db.session() as s:
            models = active_models(session=s)
            horizon = _horizon(models, current.live_time_scale)
            history = drift_history(session=s, machine_type=kind, since=now - HISTORY)
            latest = latest_check(session=s, machine_type=kind)
            ids = [r.worst_machine_id for r in latest if r.worst_machine_id is not None]
            names = machine_names(session=s, ids=ids)
            quality = [
                realised_quality(
                    session=s,
                    now=now,
                    days=days,
                    horizon=horizon,
                    min_labels=current.quality_min_labels,
                )
                for days in PERIODS
            ]
        rows = [q for period in quality for q in period if q.machine_type == kind]
        return (
            models_card(models, kind, now),
            quality_table(rows),
            heatmap_figure(history, current.drift_psi_threshold),
            distributions_figure(latest),
            lab_note(drifted_period(history), kind, _moved(latest, names)),
            _note(latest, names, current.drift_machine_psi_threshold),
        )


def _moved(latest: list, names: dict[int, str]) -> str | None:
    """The machine that drifted on its own in the latest check, if any (the lab opens on
    it)."""
    moved = [r for r in latest if r.kind == "machine" and r.status == "drift"]
    top = max(moved, key=lambda r: r.psi or 0.0, default=None)
    return names.get(top.worst_machine_id or -1) if top is not None else None


def _horizon(models: list[ActiveModel], time_scale: float) -> timedelta:
    """The failure model's horizon in wall-clock time (an alarm this long before a failure
    caught it)."""
    hours = next((m.horizon_h for m in models if m.kind == "failure"), 6.0)
    return timedelta(hours=hours / time_scale)


def _note(latest: list, names: dict[int, str], machine_threshold: float) -> str:
    """What the latest check could not judge, or the machine that moved on its own, in
    words."""
    statuses = {r.status for r in latest}
    if not latest:
        return "No drift check of this type yet (the drift job runs every few minutes)."
    if statuses == {"no reference"}:
        kind = latest[0].machine_type
        return (
            f"No reference for type {kind}: the active model was not trained on any {kind} "
            "(a new type in the fleet), or before drift checks existed. Its data is not "
            "checked for drift; retrain with its history to cover it."
        )
    if "too few" in statuses:
        return "Some features had too few live windows in the period to be judged."
    return machine_note(latest, names, machine_threshold)
