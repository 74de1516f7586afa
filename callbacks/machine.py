"""Machine detail: draw the chosen range (bucketed in the database), then extend it live."""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, html

from config import Settings
from data.db import Database
from data.machine_series import (
    bucket_seconds,
    machine_by_name,
    machine_events,
    machine_sensors,
    prediction_history,
    sensor_history,
)
from data.readings import readings_since
from maintenance.machine_status.machine_state import state_of
from maintenance.ops.app_settings import Overrides
from maintenance.people.permissions import Action
from maintenance.rendering.human_units import format_duration
from web.server.auth import require
from web.views.fleet import state_line
from web.views.machine import (
    LIVE_RANGES,
    MACHINE_CURSOR,
    MACHINE_EVENTS,
    MACHINE_GRAPH,
    MACHINE_HEADER,
    MACHINE_NAME,
    MACHINE_POINTS,
    MACHINE_RANGE,
    MACHINE_STATE,
    MACHINE_TICK,
    MACHINE_TITLE,
    MAX_POINTS,
    RANGES,
    TRACES_PER_SENSOR,
    history_figure,
    iso_times,
)
from web.views.machine_timeline import timeline


def register(app: dash.Dash, db: Database, settings: Settings) -> None:
    live_settings = Overrides(settings, db)  # the threshold may be changed in the app

    @app.callback(
        Output(MACHINE_GRAPH, "figure"),
        Output(MACHINE_POINTS, "children"),
        Output(MACHINE_EVENTS, "children"),
        Output(MACHINE_HEADER, "children"),
        Output(MACHINE_CURSOR, "data"),
        Input(MACHINE_RANGE, "value"),
        State(MACHINE_NAME, "data"),
    )
    def draw(range_key: str, name: str) -> tuple:
        require(Action.FLEET_VIEW)
        return machine_page(db, name, range_key, live_settings.current().failure_threshold)

    @app.callback(
        Output(MACHINE_STATE, "children"),
        Input(MACHINE_TICK, "n_intervals"),
        State(MACHINE_NAME, "data"),
    )
    def state(_n: int | None, name: str) -> object:
        require(Action.FLEET_VIEW)
        with db.session() as s:
            machine = machine_by_name(session=s, name=name)
            if machine is None:
                return None
            card = state_of(session=s, machine_id=machine.id)
        return state_line(card, live_settings.current().failure_threshold)

    @app.callback(
        Output(MACHINE_GRAPH, "extendData"),
        Output(MACHINE_CURSOR, "data", allow_duplicate=True),
        Input(MACHINE_TICK, "n_intervals"),
        State(MACHINE_RANGE, "value"),
        State(MACHINE_NAME, "data"),
        State(MACHINE_CURSOR, "data"),
        prevent_initial_call=True,
    )
    def live(_n: int, range_key: str, name: str, cursor: str | None) -> tuple:
        require(Action.FLEET_VIEW)
        if range_key not in LIVE_RANGES or not cursor:
            raise dash.exceptions.PreventUpdate
        return live_extension(db, name, range_key, datetime.fromisoformat(cursor))


def machine_page(db: Database, name: str, range_key: str, threshold: float) -> tuple:
    """Figure, points caption, timeline, header and live cursor for one range."""
    label, span = RANGES.get(range_key, RANGES["1h"])
    end = datetime.now(UTC)
    start = end - span
    with db.session() as s:
        machine = machine_by_name(session=s, name=name)
        if machine is None:
            missing = dbc.Alert(f"No machine is called “{name}”.", color="warning")
            return {}, "", "", missing, None
        sensors = machine_sensors(session=s, machine_id=machine.id)
        readings = sensor_history(
            session=s,
            sensor_ids=[x.id for x in sensors],
            start=start,
            end=end,
            max_points=MAX_POINTS,
        )
        preds = prediction_history(
            session=s, machine_id=machine.id, start=start, end=end, max_points=MAX_POINTS
        )
        events = machine_events(session=s, machine_id=machine.id, start=start, end=end)
        header = _header(machine.name, machine.type, machine.location, machine.line)
    fig = history_figure(
        sensors,
        readings,
        preds,
        events,
        start=start,
        end=end,
        threshold=threshold,
        revision=f"{name}-{range_key}",
        live=range_key in LIVE_RANGES,
    )
    per_trace = int(readings.groupby("sensor_id").size().max()) if not readings.empty else 0
    caption = (
        f"{label}: up to {per_trace:,} points per sensor "
        f"({format_duration(_served_step(readings, start, end))} buckets with min, max and "
        "mean; spikes stay visible)"
    )
    return fig, caption, timeline(events), header, end.isoformat()


def _served_step(readings: pd.DataFrame, start: datetime, end: datetime) -> float:
    """The bucket width the figure was served in: the smallest gap between two buckets of a
    sensor (ranges read from the ten-minute rollups round it up to whole rollups), or the
    asked width when no sensor has two buckets."""
    gaps = (
        readings.sort_values("ts").groupby("sensor_id")["ts"].diff().dt.total_seconds()
        if not readings.empty
        else None
    )
    positive = gaps[gaps > 0] if gaps is not None else None
    if positive is None or positive.empty:
        return float(bucket_seconds(start, end, MAX_POINTS))
    return float(positive.min())


def live_extension(db: Database, name: str, range_key: str, since: datetime) -> tuple:
    """New readings since the cursor appended to every sensor's traces, oldest dropped."""
    with db.session() as s:
        machine = machine_by_name(session=s, name=name)
        if machine is None:
            raise dash.exceptions.PreventUpdate
        sensors = machine_sensors(session=s, machine_id=machine.id)
        df = readings_since(
            session=s, machine_ids=[machine.id], kinds=[x.kind for x in sensors], since=since
        )
    if df.empty:
        raise dash.exceptions.PreventUpdate
    xs, ys, indices = [], [], []
    for i, sensor in enumerate(sensors):
        part = df[df["kind"] == sensor.kind]
        x = iso_times(part["ts"])
        y = part["value"].astype(float).round(3).tolist()
        for j in range(TRACES_PER_SENSOR):  # band top, band bottom, mean all get the value
            xs.append(x)
            ys.append(y)
            indices.append(i * TRACES_PER_SENSOR + j)
    span = RANGES[range_key][1].total_seconds()
    keep = int(max(MAX_POINTS, span))  # at most one point per second stays on screen
    return [{"x": xs, "y": ys}, indices, keep], df["ts"].max().isoformat()


def _header(name: str, type_: str, location: str, line: str) -> html.Div:
    return html.Div(
        [
            html.H2(name, className="h4 mb-0 me-3", id=MACHINE_TITLE),
            html.Span(f"{type_} · {location} · {line}", className="text-muted me-3"),
            html.A("← Fleet", href="/", className="small"),
        ],
        className="d-flex align-items-baseline",
    )
