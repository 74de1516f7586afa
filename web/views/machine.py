"""Machine detail: one figure with a row per sensor plus the failure-probability row,
limit lines, anomaly and alarm markers, downtime shading (the event timeline beside it is
``machine_timeline.py``'s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from data.machine_series import MachineEvent, SensorInfo

__all__ = [
    "RANGES",
    "LIVE_RANGES",
    "TRACES_PER_SENSOR",
    "history_figure",
    "iso_times",
]

# ids of this page's components
MACHINE_NAME = "machine-name"
MACHINE_HEADER = "machine-header"
MACHINE_RANGE = "machine-range"
MACHINE_GRAPH = "machine-graph"
MACHINE_POINTS = "machine-points"
MACHINE_EVENTS = "machine-events"
MACHINE_TICK = "machine-tick"
MACHINE_CURSOR = "machine-cursor"
MACHINE_STATE = "machine-state"  # its state (stopped, healthy, …) and risk, every tick
MACHINE_TITLE = "machine-title"

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
# Buckets per trace. The figure's plot area is about 930 px wide in a 1,400 px window
# (1,350 px on a full-HD screen): 600 min/max/mean buckets are one per 1.5-2.3 px, as much
# as the screen can show, and a spike still becomes its bucket's max. Plotly draws nine
# traces of them on a range click: 1,500 a trace cost the browser two and a half times as much.
MAX_POINTS = 600

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
) -> dict:
    """The figure as a plain dict: one shared time axis, one y axis per row stacked by
    domain. (Built without plotly's graph objects: their validation cost more than the
    database query at long ranges; see docs/benchmarks.md.)"""
    rows = len(sensors) + 1
    gap = 0.05
    height = (1 - gap * (rows - 1)) / rows
    domains = [
        (1 - (i + 1) * height - i * gap, 1 - i * height - i * gap) for i in range(rows)
    ]  # row 1 on top
    traces: list[dict] = []
    shapes: list[dict] = []
    layout: dict = {
        "height": 190 * rows,
        "margin": {"l": 50, "r": 20, "t": 30, "b": 30},
        "showlegend": False,
        "hovermode": "x unified",
        "uirevision": revision,
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "xaxis": {
            "type": "date",
            "showgrid": False,
            "anchor": f"y{rows}",
            **({} if live else {"range": [_iso_one(start), _iso_one(end)]}),
        },
        "annotations": [],
    }
    titles = [f"{s.kind} ({s.unit})" for s in sensors] + ["failure probability"]
    for row, (low, high) in enumerate(domains, start=1):
        layout[_axis(row)] = {"domain": [low, high], "gridcolor": "#eef0f2", "anchor": "x"}
        layout["annotations"].append(
            {
                "text": titles[row - 1],
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": high,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    for row, sensor in enumerate(sensors, start=1):
        part = readings[readings["sensor_id"] == sensor.id]
        traces += _sensor_traces(row, sensor, part)
        shapes += _limit_lines(row, sensor)
    traces += _prediction_traces(rows, predictions)
    shapes.append(_hline(rows, threshold, _CRIT))
    layout[_axis(rows)].update({"range": [0, 1.05], "tickformat": ".0%"})
    alarm_traces, alarm_lines = _alarm_markers(sensors, events, rows)
    traces += alarm_traces
    shapes += alarm_lines
    shapes += [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": _iso_one(max(e.start, start)),
            "x1": _iso_one(min(e.end or end, end)),
            "y0": 0,
            "y1": 1,
            "fillcolor": "#868e96" if e.severity == "secondary" else _CRIT,
            "opacity": 0.12,
            "line": {"width": 0},
            "layer": "below",
        }
        for e in events
        if e.kind == "downtime"
    ]
    layout["shapes"] = shapes
    return {"data": traces, "layout": layout}


def _axis(row: int) -> str:
    return "yaxis" if row == 1 else f"yaxis{row}"


def _yref(row: int) -> str:
    return "y" if row == 1 else f"y{row}"


def iso_times(ts: pd.Series) -> list[str]:
    """Timestamps as UTC text in one vectorised call (one by one is slow at 1,500 points);
    without the fraction when every one is a whole second (time buckets are): the same
    instants for Plotly, a quarter less text to send and parse."""
    if ts.empty:
        return []
    utc = ts.dt.tz_convert("UTC")
    whole = bool((utc.dt.microsecond == 0).all() and (utc.dt.nanosecond == 0).all())
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%S" if whole else "%Y-%m-%dT%H:%M:%S.%f").tolist()


def _iso_one(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _values(col: pd.Series, digits: int = 3) -> list:
    return [None if pd.isna(v) else v for v in col.astype(float).round(digits).tolist()]


def _hline(row: int, y: float, colour: str) -> dict:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": _yref(row),
        "y0": y,
        "y1": y,
        "line": {"color": colour, "dash": "dash", "width": 1},
    }


def _limit_lines(row: int, sensor: SensorInfo) -> list[dict]:
    return [
        _hline(row, value, colour)
        for value, colour in (
            (sensor.warn_high, _WARN),
            (sensor.warn_low, _WARN),
            (sensor.crit_high, _CRIT),
            (sensor.crit_low, _CRIT),
        )
        if value is not None
    ]


def _sensor_traces(row: int, sensor: SensorInfo, part: pd.DataFrame) -> list[dict]:
    """Band top, band bottom (filled to the top), mean: TRACES_PER_SENSOR traces."""
    color = _COLORS.get(sensor.kind, "#495057")
    x, axis = iso_times(part["ts"]), _yref(row)
    band = {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "yaxis": axis,
        "hoverinfo": "skip",
        "line": {"width": 0, "color": color},
    }
    return [
        {**band, "name": f"{sensor.kind} max", "y": _values(part["hi"])},
        {
            **band,
            "name": f"{sensor.kind} min",
            "y": _values(part["lo"]),
            "fill": "tonexty",
            "fillcolor": _rgba(color, 0.18),
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "yaxis": axis,
            "name": sensor.kind,
            "y": _values(part["mean"]),
            "line": {"width": 1.4, "color": color},
        },
    ]


def _prediction_traces(row: int, pred: pd.DataFrame) -> list[dict]:
    anomalies = pred[pred["anomaly"]]
    axis = _yref(row)
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "failure probability",
            "yaxis": axis,
            "x": iso_times(pred["ts"]),
            "y": _values(pred["failure_probability"]),
            "line": {"width": 1.4, "color": "#862e9c"},
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "anomaly",
            "yaxis": axis,
            "x": iso_times(anomalies["ts"]),
            "y": [0.02] * len(anomalies),
            "marker": {"symbol": "x", "size": 7, "color": _WARN},
            "hovertext": [f"anomaly score {s:.2f}" for s in anomalies["anomaly_score"].fillna(0)],
        },
    ]


def _alarm_markers(
    sensors: list[SensorInfo], events: list[MachineEvent], pred_row: int
) -> tuple[list[dict], list[dict]]:
    """A red triangle where each alarm was raised, on its sensor's row (or the prediction
    row for model alarms); a dotted line too while they are few."""
    row_of = {s.id: i for i, s in enumerate(sensors, start=1)}
    by_row: dict[int, list[MachineEvent]] = {}
    for e in events:
        if e.kind == "alarm":
            by_row.setdefault(row_of.get(e.sensor_id or -1, pred_row), []).append(e)
    traces, lines = [], []
    for row, alarms in by_row.items():
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "alarms",
                "yaxis": _yref(row),
                "x": [_iso_one(a.start) for a in alarms],
                "y": [a.value if a.value is not None or row != pred_row else 1.0 for a in alarms],
                "marker": {"symbol": "triangle-down", "size": 11, "color": _CRIT},
                "hovertext": [f"{a.title}: {a.detail}" for a in alarms],
                "hoverinfo": "text+x",
            }
        )
        if row != pred_row and len(alarms) <= 50:
            lines += [
                {
                    "type": "line",
                    "xref": "x",
                    "x0": _iso_one(a.start),
                    "x1": _iso_one(a.start),
                    "yref": f"{_yref(row)} domain",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": _CRIT, "width": 1, "dash": "dot"},
                }
                for a in alarms
            ]
    return traces, lines


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
