"""The small graph on the ticket page: the machine's sensors in the hours around the alarm.

Built as a plain figure dict, one y axis per sensor stacked on a shared time axis: plotly's
``make_subplots``/``add_hline`` validate every shape through graph objects, which took
0.6-1.2 s of the ticket page's server time for 3 sensors and 9 lines (docs/benchmarks.md);
the dict is drawn the same and costs about a millisecond."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from maintenance.repair.ticket_detail import ReadingsWindow

__all__ = ["readings_figure"]

_COLORS = {"temperature": "#d9480f", "vibration": "#1c7ed6", "rpm": "#2b8a3e"}
_WARN, _CRIT = "#f59f00", "#e03131"
_SPACING = 0.08  # between the stacked plots, a share of the height


def _axis(i: int, name: str = "y") -> str:
    """Plotly's axis names: y, y2, y3 … (``layout`` keys: yaxis, yaxis2 …)."""
    return name if i == 1 else f"{name}{i}"


def readings_figure(w: ReadingsWindow | None) -> dict[str, Any]:
    """The machine's sensors in the hours around the alarm: bucket means, limits dashed,
    the alarm's sensor drawn thicker, a red line when it was raised."""
    if w is None or not w.sensors:
        return {"data": [], "layout": {}}
    n = len(w.sensors)
    height = (1 - _SPACING * (n - 1)) / n
    data, shapes, annotations = [], [], []
    layout: dict[str, Any] = {}
    for i, s in enumerate(w.sensors, start=1):
        top = 1 - (i - 1) * (height + _SPACING)
        part = w.frame[w.frame["sensor_id"] == s.id] if not w.frame.empty else w.frame
        x, y = (list(part["ts"]), list(part["mean"])) if not part.empty else ([], [])
        line = {
            "color": _COLORS.get(s.kind, "#495057"),
            "width": 2.4 if s.id == w.sensor_id else 1.3,
        }
        data.append(
            {"type": "scatter", "x": x, "y": y, "name": s.kind, "mode": "lines", "line": line}
            | {"xaxis": "x", "yaxis": _axis(i)}
        )
        layout[_axis(i, "yaxis")] = {
            "domain": [max(0.0, top - height), top],
            "anchor": "x",
            "gridcolor": "#eef0f2",
        }
        annotations.append(  # the plot's title, above its top left corner
            {
                "text": f"{s.kind} ({s.unit})",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": top,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 11},
            }
        )
        for value, colour in (
            (s.warn_high, _WARN),
            (s.warn_low, _WARN),
            (s.crit_high, _CRIT),
            (s.crit_low, _CRIT),
        ):
            if value is not None:
                shapes.append(
                    {
                        "type": "line",
                        "xref": "x domain",
                        "x0": 0,
                        "x1": 1,
                        "yref": _axis(i),
                        "y0": value,
                        "y1": value,
                        "line": {"color": colour, "dash": "dash", "width": 1},
                    }
                )
    shapes.append(  # when the alarm was raised, across every plot
        {
            "type": "line",
            "xref": "x",
            "x0": w.mark,
            "x1": w.mark,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"color": _CRIT, "width": 1},
        }
    )
    if w.frame.empty:
        annotations.append(
            {
                "text": "No readings in the hours around the alarm",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        )
    # a machine with a short history gets its data drawn wide, not squeezed into a corner
    first = w.frame["ts"].min() - timedelta(minutes=5) if not w.frame.empty else w.start
    layout |= {
        "height": 110 * n + 50,
        "margin": {"l": 45, "r": 10, "t": 25, "b": 25},
        "showlegend": False,
        "plot_bgcolor": "#fff",
        "paper_bgcolor": "#fff",
        "hovermode": "x unified",
        "xaxis": {
            "type": "date",
            "range": [max(w.start, first), w.end],
            "showgrid": False,
            "anchor": _axis(n),
        },
        "shapes": shapes,
        "annotations": annotations,
    }
    return {"data": data, "layout": layout}
