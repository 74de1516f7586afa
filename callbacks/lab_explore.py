"""Callbacks of the model lab's explore section (engineers and admins).

``draw`` answers a selection with every figure but the scores (bounded: well under a second
for a month of a 20-machine fleet); the timeline's scores then arrive a few machines per
``tick`` (a month of scorings is about 500,000 rows per machine), with a progress bar; the
feature picker only switches which traces are visible."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import MATCH, Input, Output, State

from config import Settings
from data.db import Database
from maintenance.ops.app_settings import Overrides
from maintenance.people.permissions import Action
from ml.lab.explore import (
    MAX_SCORE_POINTS,
    Exploration,
    Selection,
    explore,
    score_step,
    scores,
)
from ml.lab.explore_data import machine_catalogue, sensor_order
from ml.lab.explore_stats import HEALTHY, PRE_FAILURE
from web.server.auth import AccessDenied, require
from web.server.lab_export import MAX_MACHINES, MAX_SPAN, clock
from web.views.lab_explore import (
    EXPLORE_DATES,
    EXPLORE_DATES_BOX,
    EXPLORE_DIST_NOTE,
    EXPLORE_DISTRIBUTIONS,
    EXPLORE_DOWNLOADS,
    EXPLORE_FEATURE,
    EXPLORE_FEATURES,
    EXPLORE_HORIZON,
    EXPLORE_INIT,
    EXPLORE_MACHINES,
    EXPLORE_META,
    EXPLORE_PCA,
    EXPLORE_RANGE,
    EXPLORE_RAW,
    EXPLORE_SENSORS,
    EXPLORE_STEP,
    EXPLORE_SUMMARY,
    EXPLORE_TIMELINE_BOX,
    LAB_EXPLORE_EMPTY,
    LAB_EXPLORE_ONE_CLASS,
    RANGES,
    STEPS,
    TIMELINE,
    TIMELINE_JOB,
    TIMELINE_PROGRESS,
    TIMELINE_TICK,
    Asked,
    asked_period,
    parse_search,
    score_progress,
    timeline_parts,
)
from web.views.lab_explore_figures import (
    distributions_figure,
    empty_figure,
    feature_visibility,
    features_figure,
    pca_figure,
    raw_figure,
)
from web.views.lab_explore_summary import downloads, summary
from web.views.lab_explore_timeline import score_patch, timeline_figure
from web.views.shell import URL

_TICK_BUDGET_S = 0.3  # read scores for this long per tick (at least one machine)
_OUTPUTS = 11


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    scale = clock(settings)
    live = Overrides(settings, db)  # the failure threshold may be changed in the app

    @app.callback(
        Output(EXPLORE_MACHINES, "options"),
        Output(EXPLORE_MACHINES, "value"),
        Input(EXPLORE_INIT, "data"),
        State(URL, "search"),
    )
    def machines(_init: object, search: str | None) -> tuple:
        """Every machine in service; those the address asks for (``?machine=`` or the
        first ``MAX_MACHINES`` of ``?type=``) picked."""
        require(Action.LAB_USE)
        with db.session() as s:
            found = machine_catalogue(session=s)
        options = [{"label": f"{name} ({kind})", "value": name} for name, kind, _ in found]
        return options, asked_machines(found, asked_period(parse_search(search))) or dash.no_update

    @app.callback(
        Output(EXPLORE_SENSORS, "options"),
        Output(EXPLORE_SENSORS, "value"),
        Input(EXPLORE_MACHINES, "value"),
        State(EXPLORE_SENSORS, "value"),
    )
    def sensors(chosen: list[str] | None, kept: list[str] | None) -> tuple:
        require(Action.LAB_USE)
        with db.session() as s:
            found = machine_catalogue(session=s)
        kinds = sensor_order(k for name, _, ks in found if name in (chosen or []) for k in ks)
        return kinds, [k for k in kept or [] if k in kinds] or kinds

    @app.callback(Output(EXPLORE_DATES_BOX, "style"), Input(EXPLORE_RANGE, "value"))
    def dates(range_key: str) -> dict:
        require(Action.LAB_USE)
        return {"display": "block" if range_key == "custom" else "none"}

    @app.callback(
        Output(EXPLORE_RAW, "figure"),
        Output(EXPLORE_FEATURES, "figure"),
        Output(EXPLORE_DISTRIBUTIONS, "figure"),
        Output(EXPLORE_DIST_NOTE, "children"),
        Output(EXPLORE_PCA, "figure"),
        Output(EXPLORE_TIMELINE_BOX, "children"),
        Output(EXPLORE_SUMMARY, "children"),
        Output(EXPLORE_FEATURE, "options"),
        Output(EXPLORE_FEATURE, "value"),
        Output(EXPLORE_DOWNLOADS, "children"),
        Output(EXPLORE_META, "data"),
        Input(EXPLORE_MACHINES, "value"),
        Input(EXPLORE_SENSORS, "value"),
        Input(EXPLORE_RANGE, "value"),
        Input(EXPLORE_DATES, "start_date"),
        Input(EXPLORE_DATES, "end_date"),
        Input(EXPLORE_STEP, "value"),
        Input(EXPLORE_HORIZON, "value"),
        State(EXPLORE_FEATURE, "value"),
    )
    def draw(*args: object) -> tuple:
        try:
            require(Action.LAB_USE)
        except AccessDenied as exc:
            return blank(dbc.Alert(str(exc), color="warning"))
        selection = parse(*args[:7], now=datetime.now(UTC))
        if isinstance(selection, str):
            return blank(dbc.Alert(selection, color="light", id=LAB_EXPLORE_EMPTY))
        with db.session() as s:
            found = explore(session=s, selection=selection, **scale)
        threshold = live.current().failure_threshold
        return outputs(found, selection, args[7], threshold, scale["time_scale"])

    @app.callback(
        Output({"type": TIMELINE, "job": MATCH}, "figure"),
        Output({"type": TIMELINE_JOB, "job": MATCH}, "data"),
        Output({"type": TIMELINE_PROGRESS, "job": MATCH}, "children"),
        Output({"type": TIMELINE_TICK, "job": MATCH}, "disabled"),
        Input({"type": TIMELINE_TICK, "job": MATCH}, "n_intervals"),
        State({"type": TIMELINE_JOB, "job": MATCH}, "data"),
        prevent_initial_call=True,
    )
    def tick(_n: int, job: dict | None) -> tuple:
        require(Action.LAB_USE)
        if not job or job["next"] >= len(job["machines"]):
            raise dash.exceptions.PreventUpdate
        return read_scores(db, job)

    @app.callback(
        Output(EXPLORE_FEATURES, "figure", allow_duplicate=True),
        Output(EXPLORE_DISTRIBUTIONS, "figure", allow_duplicate=True),
        Input(EXPLORE_FEATURE, "value"),
        State(EXPLORE_META, "data"),
        prevent_initial_call=True,
    )
    def pick(feature: str | None, meta: dict | None) -> tuple:
        require(Action.LAB_USE)
        if not feature or not meta:
            raise dash.exceptions.PreventUpdate
        lines = [n for n in meta["names"] for _ in range(meta["lines"])]
        bars = [n for n in meta["names"] for _ in range(2)]
        return feature_visibility(lines, feature), feature_visibility(bars, feature)


def asked_machines(found: list[tuple[str, str, list[str]]], asked: Asked) -> list[str]:
    """The machines the address asks for: the named one if it exists, else the type's
    (at most ``MAX_MACHINES``), else none."""
    names = [name for name, _, _ in found]
    if asked.machine in names:
        return [asked.machine]
    return [name for name, kind, _ in found if kind == asked.machine_type][:MAX_MACHINES]


def parse(
    machines: list[str] | None,
    sensors: list[str] | None,
    range_key: str,
    start_date: str | None,
    end_date: str | None,
    step: int | None,
    horizon: float | None,
    *,
    now: datetime,
) -> Selection | str:
    """The selection the controls describe, or what is missing from it."""
    if not machines or not sensors:
        return "Pick one or more machines and sensors to explore their data."
    if len(machines) > MAX_MACHINES:
        return f"Pick at most {MAX_MACHINES} machines."
    if range_key == "custom":
        if not start_date or not end_date:
            return "Pick the first and the last day."
        start = datetime.combine(date.fromisoformat(start_date[:10]), datetime.min.time(), UTC)
        last = datetime.combine(date.fromisoformat(end_date[:10]), datetime.min.time(), UTC)
        end = min(now, last + timedelta(days=1))  # the last day included, up to now
        if end <= start:
            return "The range must end after it starts (and not in the future)."
        if end - start > MAX_SPAN:
            return f"Pick at most {MAX_SPAN.days} days."
    else:
        start, end = now - RANGES.get(range_key, RANGES["1d"])[1], now
    allowed = {s["value"] for s in STEPS}
    h = float(horizon) if horizon and float(horizon) > 0 else 0.0
    return Selection(tuple(machines), tuple(sensors), start, end, step if step in allowed else 0, h)


def blank(note: object) -> tuple:
    """Every output empty, with the reason shown once."""
    fig = empty_figure("Nothing to show yet.")
    box = timeline_parts(uuid.uuid4().hex[:12], None, fig)
    return fig, fig, fig, "", fig, box, note, [], None, "", None


def outputs(
    ex: Exploration, selection: Selection, picked: str | None, threshold: float, time_scale: float
) -> tuple:
    """The figures, notes, feature picker, download links and the timeline's job."""
    if ex.series.empty:
        return blank(
            dbc.Alert(
                "No readings for these machines in this range.",
                color="light",
                id=LAB_EXPLORE_EMPTY,
            )
        )
    revision = "|".join(selection.machines + selection.sensors)
    feature = picked if picked in ex.features else (ex.features[0] if ex.features else None)
    machines = sorted(set(selection.machines))
    job = {
        "machines": machines,
        "start": ex.grid.start.isoformat(),
        "end": ex.grid.end.isoformat(),
        "step": score_step(ex.grid),
        "next": 0,
        "rows": 0,
    }
    timeline = timeline_figure(ex, machines, threshold, revision)
    lines = ex.windows["machine"].nunique() + 1  # per feature: a line per machine, markers
    return (
        raw_figure(ex, revision),
        *_window_figures(ex, feature, revision),
        timeline_parts(uuid.uuid4().hex[:12], job, timeline),
        summary(ex, time_scale),
        ex.features,
        feature,
        downloads(selection, ex.grid),
        {"names": ex.features, "lines": int(lines)},
    )


def _window_figures(ex: Exploration, feature: str | None, revision: str) -> tuple:
    """Features over time, distributions (and the note on them), PCA."""
    if len(ex.windows) == 0 or feature is None:
        why = (
            f"No complete window of {ex.grid.window} steps in this range: "
            "pick a longer range or a finer step."
        )
        fig = empty_figure(why)
        return fig, fig, "", fig
    labels = set(ex.windows["label"])
    note = ""
    if not {HEALTHY, PRE_FAILURE} <= labels:
        note = dbc.Alert(
            "No failures labelled in this range: the distributions need both classes "
            "(healthy and pre-failure windows).",
            color="light",
            className="m-2 py-2",
            id=LAB_EXPLORE_ONE_CLASS,
        )
    pca = pca_figure(ex) if ex.explained else empty_figure("Too few windows for a projection.")
    return (
        features_figure(ex, feature, revision),
        distributions_figure(ex, feature),
        note,
        pca,
    )


def read_scores(db: Database, job: dict) -> tuple:
    """Scores of the next machines of ``job`` (for about ``_TICK_BUDGET_S``), as a patch of
    the timeline, the job moved on, and the progress."""
    machines, started, done, frames = job["machines"][:MAX_MACHINES], time.perf_counter(), [], []
    start, end = datetime.fromisoformat(job["start"]), datetime.fromisoformat(job["end"])
    if not timedelta(0) < end - start <= MAX_SPAN:
        raise dash.exceptions.PreventUpdate
    # the job comes back from the browser: never finer than the view would have asked
    step = max(int(job["step"]), math.ceil((end - start).total_seconds() / MAX_SCORE_POINTS))
    with db.session() as s:
        # one more machine only when it should fit in the budget, judged by the last one
        while job["next"] < len(machines) and (
            not done or (time.perf_counter() - started) * (1 + 1 / len(done)) < _TICK_BUDGET_S
        ):
            machine = machines[job["next"]]
            frames.append(scores(session=s, machines=[machine], start=start, end=end, step_s=step))
            done.append(machine)
            job = {**job, "next": job["next"] + 1, "rows": job["rows"] + len(frames[-1])}
    patch = score_patch(pd.concat(frames, ignore_index=True), machines, done)
    progress = score_progress(job["next"], len(machines), job["rows"])
    return patch, job, progress, job["next"] >= len(machines)
