"""Figures of the lab's explore view, as plain dicts (plotly's graph objects validate every
property and cost more than the queries here; see web/views/machine.py).

Figures that switch between features carry every feature's traces, feature after feature,
all hidden but the picked one; ``feature_visibility`` patches only the ``visible`` flags."""

from __future__ import annotations

import dash
import numpy as np
import pandas as pd

from ml.lab.explore import Exploration
from ml.lab.explore_stats import DOWN, HEALTHY, PRE_FAILURE
from web.views.machine import iso_times

__all__ = [
    "LABEL_COLORS",
    "distributions_figure",
    "empty_figure",
    "feature_visibility",
    "features_figure",
    "pca_figure",
    "color",
    "values",
    "ms",
    "raw_figure",
]

LABEL_COLORS = {HEALTHY: "#2b8a3e", PRE_FAILURE: "#e8590c", DOWN: "#868e96"}
_PALETTE = (
    "#1c7ed6",
    "#d9480f",
    "#2b8a3e",
    "#862e9c",
    "#e67700",
    "#0b7285",
    "#c2255c",
    "#5c940d",
    "#364fc7",
    "#495057",
)
_CRIT = "#e03131"
_MAX_SHAPES = 150
FEATURE_POINTS = 12_000  # points of all lines of the features figure together
_BASE = {
    "margin": {"l": 55, "r": 15, "t": 36, "b": 45},
    "plot_bgcolor": "#fff",
    "paper_bgcolor": "#fff",
    "legend": {
        "orientation": "h",
        "x": 0,
        "y": 1.01,
        "yanchor": "bottom",
    },  # above: axis titles below
}


def color(i: int) -> str:
    """The i-th machine's colour (the same in every figure)."""
    return _PALETTE[i % len(_PALETTE)]


def empty_figure(message: str, height: int = 260) -> dict:
    """A blank figure that says why it is blank."""
    hidden = {"visible": False}
    note = {"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5}
    note |= {"y": 0.5, "font": {"size": 14, "color": "#6c757d"}}
    layout = {**_BASE, "height": height, "xaxis": hidden, "yaxis": hidden, "annotations": [note]}
    return {"data": [], "layout": layout}


def ms(times: pd.Series) -> list[int]:
    """UTC times as epoch milliseconds: what a date axis reads, in half the bytes of text
    (the series figure alone carries tens of thousands)."""
    if times.empty:
        return []
    return ((times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).tolist()


def values(column: pd.Series, digits: int = 4) -> list:
    """Floats rounded for the browser; NaN and infinities become gaps."""
    return [None if not np.isfinite(v) else v for v in column.astype(float).round(digits)]


def raw_figure(ex: Exploration, revision: str) -> dict:
    """One row per sensor, one line per machine (bucket means), breakdowns shaded."""
    rows = len(ex.sensors)
    height, gap = (1 - 0.06 * (rows - 1)) / rows, 0.06
    layout: dict = {
        **_BASE,
        "height": 60 + 170 * rows,
        "hovermode": "x unified",
        "uirevision": revision,
        "xaxis": {
            "type": "date",
            "anchor": f"y{rows}" if rows > 1 else "y",
            "range": iso_times(pd.Series([ex.grid.start, ex.grid.end])),
        },
    }
    traces = []
    machines = sorted(ex.series["machine"].unique())
    parts = dict(tuple(ex.series.groupby(["sensor", "machine"])))
    none = ex.series.iloc[:0]
    for r, sensor in enumerate(ex.sensors, start=1):
        top = 1 - (r - 1) * (height + gap)
        axis = "yaxis" if r == 1 else f"yaxis{r}"
        layout[axis] = {
            "domain": [max(0, top - height), top],
            "anchor": "x",
            "title": {"text": sensor},
        }
        for i, machine in enumerate(machines):
            mine = parts.get((sensor, machine), none)
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": machine,
                    "legendgroup": machine,
                    "showlegend": r == 1,
                    "x": ms(mine["time"]),
                    "y": values(mine["value"], 3),
                    "yaxis": "y" if r == 1 else f"y{r}",
                    "line": {"width": 1.2, "color": color(i)},
                }
            )
    layout["shapes"] = _down_shapes(ex)
    return {"data": traces, "layout": layout}


def _down_shapes(ex: Exploration) -> list[dict]:
    shown = ex.failures[
        (ex.failures["repaired"] >= ex.grid.start) & (ex.failures["failure"] < ex.grid.end)
    ]
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": iso_times(pd.Series([f.failure]))[0],
            "x1": iso_times(pd.Series([max(f.repaired, f.failure + pd.Timedelta(minutes=1))]))[0],
            "y0": 0,
            "y1": 1,
            "fillcolor": _CRIT,
            "opacity": 0.15,
            "line": {"width": 0},
            "layer": "below",
        }
        for f in shown.head(_MAX_SHAPES).itertuples()
    ]


def features_figure(ex: Exploration, picked: str, revision: str) -> dict:
    """Each feature over time (window ends): a line per machine and the pre-failure windows
    as markers; only ``picked`` visible. Down windows are left out (their values dwarf
    everything else)."""
    machines = sorted(ex.windows["machine"].unique())
    running = ex.windows["label"] != DOWN
    # down windows stay in as gaps: a line drawn across a breakdown would invent values
    shown = ex.windows.assign(**{n: ex.windows[n].where(running) for n in ex.features})
    warned = shown[shown["label"] == PRE_FAILURE]
    # every feature travels: thin the lines so the figure stays a few hundred KB
    cap = max(60, FEATURE_POINTS // max(1, len(ex.features) * len(machines)))
    parts = dict(tuple(shown.groupby("machine")))
    thinned = {m: _thin(parts[m], cap) for m in machines}
    times = {m: ms(part["end"]) for m, part in thinned.items()}
    marker_times = ms(warned["end"])
    traces = []
    for name in ex.features:
        for i, machine in enumerate(machines):
            line = {"width": 1.2, "color": color(i)}
            ys = values(thinned[machine][name], 3)
            traces.append(
                _feature_trace(name, picked, machine, times[machine], ys) | {"line": line}
            )
        marks = _feature_trace(
            name, picked, "pre-failure windows", marker_times, values(warned[name], 3)
        )
        marks |= {"mode": "markers", "marker": {"color": LABEL_COLORS[PRE_FAILURE], "size": 6}}
        traces.append(marks)
    layout = {
        **_BASE,
        "height": 330,
        "uirevision": revision,
        "xaxis": {"type": "date", "range": iso_times(pd.Series([ex.grid.start, ex.grid.end]))},
        "yaxis": {"title": {"text": "std. deviations from healthy"}, "zeroline": True},
    }
    return {"data": traces, "layout": layout}


def _thin(rows: pd.DataFrame, cap: int) -> pd.DataFrame:
    return rows.iloc[:: -(-len(rows) // cap)] if len(rows) > cap else rows


def _feature_trace(name: str, picked: str, label: str, x: list, y: list) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": label,
        "meta": name,
        "visible": name == picked,
        "x": x,
        "y": y,
    }


def distributions_figure(ex: Exploration, picked: str) -> dict:
    """Share of healthy and of pre-failure windows per bin, overlaid; one feature shown."""
    traces = []
    for name in ex.features:
        part = ex.distributions[ex.distributions["feature"] == name]
        for label in (HEALTHY, PRE_FAILURE):
            bins = part[part["label"] == label]
            total = int(bins["count"].sum())
            traces.append(
                {
                    "type": "bar",
                    "name": f"{label} ({total:,} windows)",
                    "meta": name,
                    "visible": name == picked,
                    "x": values((bins["left"] + bins["right"]) / 2),
                    "y": values(bins["share"]),
                    "width": values(bins["right"] - bins["left"]),
                    "marker": {"color": LABEL_COLORS[label]},
                    "opacity": 0.6,
                }
            )
    layout = {
        **_BASE,
        "height": 330,
        "barmode": "overlay",
        "bargap": 0,
        "xaxis": {"title": {"text": "std. deviations from healthy"}},
        "yaxis": {"title": {"text": "share of windows"}, "tickformat": ".0%"},
    }
    return {"data": traces, "layout": layout}


def feature_visibility(metas: list[str], picked: str) -> dash.Patch:
    """Show ``picked``'s traces and hide the rest, without sending any data again."""
    patch = dash.Patch()
    for i, name in enumerate(metas):
        patch["data"][i]["visible"] = name == picked
    return patch


def pca_figure(ex: Exploration) -> dict:
    """The windows' first two principal components, coloured by label."""
    shown = ex.windows.dropna(subset=["pc1", "pc2"])
    traces = []
    for label in (HEALTHY, PRE_FAILURE):
        part = shown[shown["label"] == label]
        hover = (part["machine"] + " · " + part["end"].dt.strftime("%Y-%m-%d %H:%M")).tolist()
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{label} ({len(part):,})",
                "x": values(part["pc1"], 3),
                "y": values(part["pc2"], 3),
                "hovertext": hover,
                "hoverinfo": "text",
                "marker": {"color": LABEL_COLORS[label], "size": 5, "opacity": 0.6},
            }
        )
    one, two = ex.explained or (0.0, 0.0)
    layout = {
        **_BASE,
        "height": 380,
        "xaxis": {"title": {"text": f"PC1 ({one:.0%} of variance)"}, "zeroline": False},
        "yaxis": {"title": {"text": f"PC2 ({two:.0%} of variance)"}, "zeroline": False},
    }
    return {"data": traces, "layout": layout}
