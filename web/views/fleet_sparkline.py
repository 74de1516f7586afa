"""The fleet tiles' sparklines: each machine's recent temperature and vibration cut from one
query for the whole fleet, drawn as a bare two-axis figure with its warning limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
from dash import html

__all__ = [
    "LIVE_KINDS",
    "LIVE_POINTS",
    "SPARK_MINUTES",
    "Series",
    "epoch_ms",
    "sparkline",
    "sparkline_legend",
    "sparkline_series",
]

LIVE_KINDS = ("temperature", "vibration")
LIVE_POINTS = 300  # per trace, kept by extendData
SPARK_MINUTES = 15  # what a tile shows: the last quarter of an hour
_COLORS = {"temperature": "#d9480f", "vibration": "#1c7ed6"}


def sparkline_legend(units: dict[str, list[str]]) -> list:
    """One line above the tiles says what their bare lines are: span, sensors, units (those
    the fleet's sensors report in) and the dotted limits; a legend in each of 200 tiles
    would cost more than the lines."""
    kinds = [
        html.Span(
            f"{kind} ({', '.join(units[kind])})" if units.get(kind) else kind,
            style={"color": _COLORS[kind]},
            className="fw-semibold",
        )
        for kind in LIVE_KINDS
    ]
    return [
        f"Each tile: the last {SPARK_MINUTES} minutes of ",
        kinds[0],
        " and ",
        kinds[1],
        ", each on its own scale; the dotted lines are their warning limits.",
    ]


Series = dict[str, tuple[list[int], list[float]]]  # sensor kind -> (epoch ms, values)


def epoch_ms(ts: pd.Series) -> np.ndarray:
    """UTC timestamps as integer milliseconds since 1970, whatever pandas' time unit."""
    return ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).to_numpy()


def sparkline_series(df: pd.DataFrame) -> dict[int, Series]:
    """Per machine, each kind's times (epoch milliseconds: a date axis reads them, and they
    are shorter than text) and values, cut from the query's sorted arrays in one pass for
    the fleet: per tile it costs a hundred times more, and a page has 200 tiles."""
    if df.empty:
        return {}
    machine = df["machine_id"].to_numpy()  # sorted by machine, kind, time in the query
    kind = df["kind"].to_numpy()
    x = df["ms"].to_numpy()
    y = df["value"].astype(float).round(3).to_numpy()
    cuts = np.flatnonzero((machine[1:] != machine[:-1]) | (kind[1:] != kind[:-1])) + 1
    out: dict[int, Series] = {}
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(df)], strict=True):
        out.setdefault(int(machine[lo]), {})[str(kind[lo])] = (
            x[lo:hi].tolist(),
            y[lo:hi].tolist(),
        )
    return out


def sparkline(series: Series, warn_high: dict[str, float]) -> dict:
    """Temperature (left) and vibration (right axis), their warning limits dotted; no
    chrome. A plain dict without a template: 200 of these are built per page load."""
    traces, shapes = [], []
    for kind, axis in (("temperature", "y"), ("vibration", "y2")):
        x, y = series.get(kind, ([], []))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": kind,
                "x": x,
                "y": y,
                "yaxis": axis,
                "line": {"color": _COLORS[kind], "width": 1.3},
                "hovertemplate": "%{y:.2f}<extra>" + kind + "</extra>",
            }
        )
        limit = warn_high.get(kind)
        if limit:
            shapes.append(
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "yref": axis,
                    "y0": limit,
                    "y1": limit,
                    "line": {"color": _COLORS[kind], "dash": "dot", "width": 1},
                }
            )
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False}
    layout = {
        "height": 90,
        "margin": {"l": 4, "r": 4, "t": 4, "b": 4},
        "uirevision": "live",
        "showlegend": False,
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "xaxis": {**axis, "type": "date"},
        "yaxis": {**axis, "autorangeoptions": _include(warn_high.get("temperature"))},
        "yaxis2": {
            **axis,
            "overlaying": "y",
            "side": "right",
            "autorangeoptions": _include(warn_high.get("vibration")),
        },
        "shapes": shapes,
    }
    return {"data": traces, "layout": layout}


def _include(limit: float | None) -> dict:
    return {"include": [limit * 0.5, limit * 1.05]} if limit else {}
