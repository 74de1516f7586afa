"""The small graph on the ticket page: the machine's sensors in the hours around the alarm."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from maintenance.repair.ticket_detail import ReadingsWindow

__all__ = ["readings_figure"]

_COLORS = {"temperature": "#d9480f", "vibration": "#1c7ed6", "rpm": "#2b8a3e"}
_WARN, _CRIT = "#f59f00", "#e03131"


def readings_figure(w: ReadingsWindow | None) -> go.Figure:
    """The machine's sensors in the hours around the alarm: bucket means, limits dashed,
    the alarm's sensor drawn thicker, a red line when it was raised."""
    if w is None or not w.sensors:
        return go.Figure()
    fig = make_subplots(
        rows=len(w.sensors),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[f"{s.kind} ({s.unit})" for s in w.sensors],
    )
    for row, s in enumerate(w.sensors, start=1):
        part = w.frame[w.frame["sensor_id"] == s.id] if not w.frame.empty else w.frame
        line = {
            "color": _COLORS.get(s.kind, "#495057"),
            "width": 2.4 if s.id == w.sensor_id else 1.3,
        }
        x, y = (list(part["ts"]), list(part["mean"])) if not part.empty else ([], [])
        fig.add_trace(go.Scatter(x=x, y=y, name=s.kind, mode="lines", line=line), row, 1)
        for value, colour in (
            (s.warn_high, _WARN),
            (s.warn_low, _WARN),
            (s.crit_high, _CRIT),
            (s.crit_low, _CRIT),
        ):
            if value is not None:
                fig.add_hline(
                    y=value, line={"color": colour, "dash": "dash", "width": 1}, row=row, col=1
                )
    fig.update_annotations(font_size=11, xanchor="left", x=0)  # the subplot titles
    fig.add_vline(x=w.mark, line={"color": _CRIT, "width": 1})
    if w.frame.empty:
        fig.add_annotation(
            text="No readings in the hours around the alarm",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
    fig.update_layout(
        height=110 * len(w.sensors) + 50,
        margin={"l": 45, "r": 10, "t": 25, "b": 25},
        showlegend=False,
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        hovermode="x unified",
    )
    # a machine with a short history gets its data drawn wide, not squeezed into a corner
    first = w.frame["ts"].min() - timedelta(minutes=5) if not w.frame.empty else w.start
    fig.update_xaxes(type="date", range=[max(w.start, first), w.end], showgrid=False)
    fig.update_yaxes(gridcolor="#eef0f2")
    return fig
