"""The tune section's figures as plain dicts (graph_objects are slow to build in a
callback), and the pieces of them a slider move patches: the heatmap's cells, the marker on
the precision-recall curve, the red line on the trade-off."""

from __future__ import annotations

import math

from web.views.components import figure_layout

__all__ = [
    "confusion_cells",
    "confusion_figure",
    "pr_figure",
    "pr_marker",
    "tradeoff_figure",
]

_BLUE, _GREEN, _ORANGE, _RED, _GREY = "#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6c757d"


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _axis(title: str, **extra: object) -> dict:
    return {"title": {"text": title}, "gridcolor": "#e9ecef", "zeroline": False, **extra}


def confusion_cells(row: dict, threshold: float) -> dict:
    """The heatmap's changing parts: cell colours (share of the row: green right, red
    wrong), texts and column labels."""
    tp, fn, fp, tn = (int(row[k]) for k in ("tp", "fn", "fp", "tn"))
    pos, neg = max(tp + fn, 1), max(fp + tn, 1)
    return {
        "z": [[tp / pos, -fn / pos], [-fp / neg, tn / neg]],
        "text": [
            [f"<b>{tp:,}</b><br>caught", f"<b>{fn:,}</b><br>missed"],
            [f"<b>{fp:,}</b><br>false", f"<b>{tn:,}</b><br>quiet"],
        ],
        "x": [f"score ≥ {threshold:.2f}", f"score < {threshold:.2f}"],
    }


def confusion_figure(row: dict, threshold: float, horizon: str) -> dict:
    cells = confusion_cells(row, threshold)
    trace = {
        "type": "heatmap",
        **cells,
        "y": [f"fails within {horizon}", f"no failure within {horizon}"],
        "texttemplate": "%{text}",
        "textfont": {"size": 14},
        "colorscale": [[0, "#f1aeb5"], [0.5, "#ffffff"], [1, "#a3cfbb"]],
        "zmin": -1,
        "zmax": 1,
        "showscale": False,
        "hoverinfo": "skip",
        "xgap": 3,
        "ygap": 3,
    }
    return {
        "data": [trace],
        "layout": figure_layout(
            "Windows: what the score said",
            # explicit ranges everywhere: a patched figure loses Plotly's autoranged ones
            xaxis={"side": "top", "fixedrange": True, "range": [-0.5, 1.5]},
            yaxis={"range": [1.5, -0.5], "fixedrange": True},
            margin={"l": 125, "r": 10, "t": 60, "b": 20},
        ),
    }


def pr_marker(point: tuple[float | None, float | None], threshold: float) -> dict:
    """The current threshold's point, labelled below it on the side with room."""
    recall, precision = point
    side = "bottom left" if recall is not None and recall > 0.5 else "bottom right"
    return {"x": [recall], "y": [precision], "text": [f"{threshold:.2f}"], "textposition": side}


def pr_figure(pr: dict, point: tuple[float | None, float | None], threshold: float) -> dict:
    """The window-level precision-recall curve with the current threshold marked."""
    curve = {
        "type": "scatter",
        "mode": "lines",
        "x": pr["recall"],
        "y": pr["precision"],
        "customdata": pr["thresholds"],
        "line": {"color": _BLUE, "width": 2, "shape": "hv"},
        "name": "every threshold",
        "hovertemplate": "threshold %{customdata:.2f}<br>recall %{x:.0%}<br>"
        "precision %{y:.0%}<extra></extra>",
    }
    marker = {
        "type": "scatter",
        "mode": "markers+text",
        **pr_marker(point, threshold),
        "marker": {"size": 12, "color": _RED},
        "name": "this threshold",
        "hoverinfo": "skip",
    }
    ap = pr.get("average_precision")
    title = "Windows: precision vs recall" + ("" if _missing(ap) else f" (AP {ap:.2f})")
    return {
        "data": [curve, marker],
        "layout": figure_layout(
            title,
            xaxis=_axis("recall", range=[0, 1.02], tickformat=".0%"),
            yaxis=_axis("precision", range=[0, 1.05], tickformat=".0%"),
            showlegend=False,
        ),
    }


def threshold_line(threshold: float, colour: str = _RED, dash: str = "solid") -> dict:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": threshold,
        "x1": threshold,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 2, "dash": dash},
    }


def _false_alarm_axis(values: list[float | None]) -> tuple[float, bool]:
    """Top of the false-alarm axis: the worst fifth of the thresholds (alarm storms where
    the threshold sits in the noise) may run off it, so the rest is readable."""
    known = sorted(x for x in values if not _missing(x))
    if not known:
        return 1.0, False
    top = max(1.15 * known[int(0.8 * (len(known) - 1))], 0.5)
    return top, known[-1] > top


def tradeoff_figure(rows: list[dict], threshold: float, saved: float | None) -> dict:
    """Alarm recall, precision and false alarms per machine-week over every threshold, the
    slider's position (red) and the saved setting (grey, dotted)."""
    x = [r["threshold"] for r in rows]

    def line(key: str, name: str, colour: str, **extra: object) -> dict:
        return {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": [r.get(key) for r in rows],
            "name": name,
            "line": {"color": colour, "width": 2},
            **extra,
        }

    top, clipped = _false_alarm_axis([r.get("false_alarms_per_machine_week") for r in rows])
    title = "false alarms / machine-week" + (" (clipped)" if clipped else "")
    shapes = [threshold_line(threshold)]
    if saved is not None:
        shapes.append(threshold_line(saved, _GREY, "dot"))
    return {
        "data": [
            line("recall", "recall", _GREEN),
            line("precision", "precision", _BLUE),
            line(
                "false_alarms_per_machine_week",
                "false alarms / machine-week",
                _ORANGE,
                yaxis="y2",
                line={"color": _ORANGE, "width": 2, "dash": "dash"},
            ),
        ],
        "layout": figure_layout(
            "Alarms over every threshold",
            xaxis=_axis("threshold", range=[0.05, 0.95]),
            yaxis=_axis("", range=[0, 1.05], tickformat=".0%"),
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "range": [0, top],
                "showgrid": False,
                "title": {"text": title, "font": {"color": _ORANGE}},
                "tickfont": {"color": _ORANGE},
                "tickformat": ".1f",
            },
            shapes=shapes,
            legend={"orientation": "h", "y": -0.22, "x": 0},
            margin={"l": 50, "r": 55, "t": 40, "b": 75},
            hovermode="x unified",
        ),
    }
