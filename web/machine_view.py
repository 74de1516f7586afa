"""Machine detail: one figure with a row per sensor plus the failure-probability row,
limit lines, anomaly and alarm markers, downtime shading; and the event timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

from data.history import MachineEvent, SensorInfo

__all__ = ["RANGES", "LIVE_RANGES", "TRACES_PER_SENSOR", "history_figure", "timeline"]

# range key -> (label, span); the machine page offers these, the callback trusts only these
RANGES = {
    "15m": ("15 min", timedelta(minutes=15)),
    "1h": ("1 hour", timedelta(hours=1)),
    "6h": ("6 hours", timedelta(hours=6)),
    "1d": ("1 day", timedelta(days=1)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "90d": ("90 days", timedelta(days=90)),
}
LIVE_RANGES = frozenset({"15m", "1h"})  # short enough to extend every tick
TRACES_PER_SENSOR = 3  # band top, band bottom, mean: the live tick extends all three
MAX_POINTS = 1500

_COLORS = {"temperature": "#d9480f", "vibration": "#1c7ed6", "rpm": "#2b8a3e"}
_WARN, _CRIT = "#f59f00", "#e03131"


def history_figure(
    sensors: list[SensorInfo],
    readings: pd.DataFrame,
    predictions: pd.DataFrame,
    events: list[MachineEvent],
    *,
    start: datetime,
    end: datetime,
    threshold: float,
    revision: str,
    live: bool = False,
) -> go.Figure:
    rows = len(sensors) + 1
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        subplot_titles=[f"{s.kind} ({s.unit})" for s in sensors] + ["failure probability"],
    )
    for row, sensor in enumerate(sensors, start=1):
        _sensor_traces(fig, row, sensor, readings[readings["sensor_id"] == sensor.id])
    _prediction_traces(fig, rows, predictions, threshold)
    _alarm_markers(fig, sensors, events, rows)
    for e in events:
        if e.kind == "downtime":
            fig.add_vrect(
                x0=max(e.start, start),
                x1=min(e.end or end, end),
                fillcolor="#868e96" if e.severity == "secondary" else _CRIT,
                opacity=0.12,
                line_width=0,
                row="all",
                col=1,
            )
    fig.update_layout(
        height=190 * rows,
        margin={"l": 50, "r": 20, "t": 30, "b": 30},
        showlegend=False,
        hovermode="x unified",
        uirevision=revision,
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
    )
    # a live range follows its data as it grows; a fixed range shows the whole span asked for
    # (type set: an empty row would otherwise make the shared axis numeric)
    fig.update_xaxes(type="date", showgrid=False, **({} if live else {"range": [start, end]}))
    fig.update_annotations(font_size=12, xanchor="left", x=0)
    fig.update_yaxes(gridcolor="#eef0f2")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%", row=rows, col=1)
    return fig


def _sensor_traces(fig: go.Figure, row: int, sensor: SensorInfo, part: pd.DataFrame) -> None:
    color = _COLORS.get(sensor.kind, "#495057")
    x = list(part["ts"])
    band = {"mode": "lines", "line": {"width": 0, "color": color}, "hoverinfo": "skip"}
    fig.add_trace(go.Scatter(x=x, y=list(part["hi"]), name=f"{sensor.kind} max", **band), row, 1)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(part["lo"]),
            name=f"{sensor.kind} min",
            fill="tonexty",
            fillcolor=_rgba(color, 0.18),
            **band,
        ),
        row,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[round(v, 3) for v in part["mean"]],
            name=sensor.kind,
            mode="lines",
            line={"width": 1.4, "color": color},
        ),
        row,
        1,
    )
    for value, colour in (
        (sensor.warn_high, _WARN),
        (sensor.warn_low, _WARN),
        (sensor.crit_high, _CRIT),
        (sensor.crit_low, _CRIT),
    ):
        if value is not None:
            fig.add_hline(
                y=value, line={"color": colour, "dash": "dash", "width": 1}, row=row, col=1
            )


def _prediction_traces(fig: go.Figure, row: int, pred: pd.DataFrame, threshold: float) -> None:
    fig.add_trace(
        go.Scatter(
            x=list(pred["ts"]),
            y=list(pred["failure_probability"]),
            name="failure probability",
            mode="lines",
            line={"width": 1.4, "color": "#862e9c"},
            connectgaps=False,
        ),
        row,
        1,
    )
    anomalies = pred[pred["anomaly"]]
    fig.add_trace(
        go.Scatter(
            x=list(anomalies["ts"]),
            y=[0.02] * len(anomalies),
            name="anomaly",
            mode="markers",
            marker={"symbol": "x", "size": 7, "color": _WARN},
            hovertext=[f"anomaly score {s:.2f}" for s in anomalies["anomaly_score"].fillna(0)],
        ),
        row,
        1,
    )
    fig.add_hline(y=threshold, line={"color": _CRIT, "dash": "dash", "width": 1}, row=row, col=1)


def _alarm_markers(
    fig: go.Figure, sensors: list[SensorInfo], events: list[MachineEvent], pred_row: int
) -> None:
    """A red triangle where each alarm was raised, on its sensor's row (or the prediction
    row for model alarms)."""
    row_of = {s.id: i for i, s in enumerate(sensors, start=1)}
    by_row: dict[int, list[MachineEvent]] = {}
    for e in events:
        if e.kind == "alarm":
            by_row.setdefault(row_of.get(e.sensor_id or -1, pred_row), []).append(e)
    for row, alarms in by_row.items():
        fig.add_trace(
            go.Scatter(
                x=[a.start for a in alarms],
                y=[a.value if a.value is not None or row != pred_row else 1.0 for a in alarms],
                name="alarms",
                mode="markers",
                marker={"symbol": "triangle-down", "size": 11, "color": _CRIT},
                hovertext=[f"{a.title}: {a.detail}" for a in alarms],
                hoverinfo="text+x",
            ),
            row,
            1,
        )
        if row != pred_row and len(alarms) <= 50:  # a sensor row: mark the moment as a line
            for a in alarms:
                fig.add_vline(
                    x=a.start, line={"color": _CRIT, "width": 1, "dash": "dot"}, row=row, col=1
                )


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


_BADGE = {"alarm": "danger", "ticket": "info", "downtime": "secondary"}


def timeline(events: list[MachineEvent]) -> html.Div:
    if not events:
        return dbc.Alert(
            "Nothing happened in this range: no alarms, tickets or downtime.",
            color="light",
            id="machine-events-empty",
        )
    items = [
        dbc.ListGroupItem(
            [
                html.Div(
                    [
                        html.Div(
                            [
                                dbc.Badge(e.kind, color=_BADGE[e.kind], className="me-1"),
                                html.Strong(e.title),
                            ]
                        ),
                        html.Small(_when(e), className="text-muted"),
                    ],
                    className="d-flex justify-content-between",
                ),
                html.Small(e.detail, className=f"text-{e.severity}"),
            ],
            className="machine-event",
        )
        for e in events
    ]
    return dbc.ListGroup(items, flush=True, id="machine-events-list")


def _when(e: MachineEvent) -> str:
    start = e.start.strftime("%Y-%m-%d %H:%M")
    if e.end is None:
        return f"{start} → now"
    return (
        f"{start} → {e.end.strftime('%H:%M' if e.end.date() == e.start.date() else '%m-%d %H:%M')}"
    )
