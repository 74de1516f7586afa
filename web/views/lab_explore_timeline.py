"""The explore view's timeline: failure probability and anomaly score per machine, with the
alarms raised and the failures confirmed. Drawn first with the markers and empty score
lines; the scores arrive a few machines at a time (``score_patch``), because reading every
scoring of a month takes a few seconds for a whole fleet."""

from __future__ import annotations

import dash
import pandas as pd

from ml.lab.explore import Exploration
from web.views.lab_explore_figures import color, empty_figure, ms, values
from web.views.machine import iso_times

__all__ = ["timeline_figure", "score_patch"]

_CRIT, _WARN, _GREY = "#e03131", "#f59f00", "#868e96"
_MAX_LINES = 150


def timeline_figure(ex: Exploration, machines: list[str], threshold: float, revision: str) -> dict:
    """Two rows (failure probability above, anomaly score below); traces 2i and 2i + 1 are
    machine i's, empty until ``score_patch`` fills them."""
    if not machines:
        return empty_figure("Pick machines to see what the models said.")
    traces = []
    for i, machine in enumerate(machines):
        line = {"width": 1.2, "color": color(i)}
        traces.append(_line(machine, "y", line, True))
        traces.append(_line(machine, "y2", line, False))
    traces += _markers(ex)
    layout = {
        "height": 420,
        "margin": {"l": 55, "r": 15, "t": 36, "b": 40},
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "hovermode": "closest",
        "uirevision": revision,
        "legend": {"orientation": "h", "x": 0, "y": 1.01, "yanchor": "bottom"},
        "xaxis": {
            "type": "date",
            "anchor": "y2",
            "range": iso_times(pd.Series([ex.grid.start, ex.grid.end])),
        },
        "yaxis": {
            "domain": [0.52, 1],
            "range": [0, 1.12],
            "title": {"text": "failure prob."},
            "tickformat": ".0%",
        },
        "yaxis2": {"domain": [0, 0.44], "range": [0, 1.05], "title": {"text": "anomaly score"}},
        "shapes": [_threshold(threshold), *_failure_lines(ex)],
    }
    return {"data": traces, "layout": layout}


def _line(machine: str, axis: str, line: dict, legend: bool) -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": machine,
        "legendgroup": machine,
        "showlegend": legend,
        "x": [],
        "y": [],
        "yaxis": axis,
        "line": line,
    }


def _markers(ex: Exploration) -> list[dict]:
    alarms = ex.alarms
    in_range = ex.failures[
        (ex.failures["failure"] >= ex.grid.start) & (ex.failures["failure"] < ex.grid.end)
    ]
    false = ex.false_alarms[
        (ex.false_alarms["time"] >= ex.grid.start) & (ex.false_alarms["time"] < ex.grid.end)
    ]
    return [
        _marker_trace(
            f"alarms ({len(alarms)})",
            alarms["time"],
            1.06,
            {
                "symbol": "triangle-down",
                "size": 9,
                "color": [_CRIT if s == "CRITICAL" else _WARN for s in alarms["severity"]],
            },
            (alarms["machine"] + ": " + alarms["code"] + " (" + alarms["source"] + ")").tolist(),
        ),
        _marker_trace(
            f"confirmed failures ({len(in_range)})",
            in_range["failure"],
            0.96,
            {"symbol": "x", "size": 10, "color": _CRIT},
            (in_range["machine"] + ": " + in_range["source"]).tolist(),
        ),
        _marker_trace(
            f"false alarms ({len(false)})",
            false["time"],
            0.9,
            {"symbol": "circle-open", "size": 9, "color": _GREY},
            (false["machine"] + ": ticket #" + false["ticket_id"].astype(str)).tolist(),
        ),
    ]


def _marker_trace(name: str, times: pd.Series, y: float, marker: dict, text: list) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": ms(times),
        "y": [y] * len(times),
        "yaxis": "y",
        "marker": marker,
        "hovertext": text,
        "hoverinfo": "text+x",
    }


def _threshold(threshold: float) -> dict:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": threshold,
        "y1": threshold,
        "line": {"color": _CRIT, "dash": "dash", "width": 1},
    }


def _failure_lines(ex: Exploration) -> list[dict]:
    shown = ex.failures[
        (ex.failures["failure"] >= ex.grid.start) & (ex.failures["failure"] < ex.grid.end)
    ]
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": {"color": _CRIT, "width": 1, "dash": "dot"},
        }
        for x in iso_times(shown["failure"].head(_MAX_LINES))
    ]


def score_patch(scores: pd.DataFrame, machines: list[str], done: list[str]) -> dash.Patch:
    """Fill the score lines of the machines in ``done`` (their place in ``machines`` says
    which traces); writing a machine twice writes the same thing."""
    patch = dash.Patch()
    for machine in done:
        i = machines.index(machine)
        mine = scores[scores["machine"] == machine]
        x = ms(mine["time"])
        patch["data"][2 * i]["x"] = x
        patch["data"][2 * i]["y"] = values(mine["failure_probability"], 3)
        patch["data"][2 * i + 1]["x"] = x
        patch["data"][2 * i + 1]["y"] = values(mine["anomaly_score"], 3)
    return patch
