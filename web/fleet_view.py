"""Fleet overview pieces: the KPI strip and one tile per machine (status, risk, sparkline)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from data.fleet import MachineCard
from web import ids

__all__ = [
    "LIVE_KINDS",
    "LIVE_POINTS",
    "STATUS_COLOR",
    "STATUS_LABEL",
    "alarm_class",
    "alarm_line",
    "kpi_strip",
    "machine_tile",
    "mode_badge",
    "risk_class",
    "risk_line",
    "sparkline",
]

STATUS_COLOR = {"ok": "success", "warning": "warning", "critical": "danger", "idle": "secondary"}
STATUS_LABEL = {"ok": "Healthy", "warning": "Warning", "critical": "Critical", "idle": "No data"}
LIVE_KINDS = ("temperature", "vibration")
LIVE_POINTS = 300  # per trace, kept by extendData
_COLORS = {"temperature": "#d9480f", "vibration": "#1c7ed6"}


def sparkline(df: pd.DataFrame, warn_high: dict[str, float]) -> go.Figure:
    """Temperature (left) and vibration (right axis), their warning limits dotted; no chrome."""
    fig = go.Figure()
    for kind, axis in (("temperature", "y"), ("vibration", "y2")):
        part = df[df["kind"] == kind] if not df.empty else df
        fig.add_trace(
            go.Scatter(
                x=list(part["ts"]) if not part.empty else [],
                y=list(part["value"]) if not part.empty else [],
                name=kind,
                mode="lines",
                line={"color": _COLORS[kind], "width": 1.3},
                yaxis=axis,
                hovertemplate="%{y:.2f}<extra>" + kind + "</extra>",
            )
        )
        limit = warn_high.get(kind)
        if limit:
            fig.add_hline(
                y=limit, line={"color": _COLORS[kind], "dash": "dot", "width": 1}, yref=axis
            )
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False}
    fig.update_layout(
        height=90,
        margin={"l": 4, "r": 4, "t": 4, "b": 4},
        uirevision="live",
        showlegend=False,
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        xaxis={**axis, "type": "date"},
        yaxis={
            **axis,
            "autorangeoptions": _include(warn_high.get("temperature")),
        },
        yaxis2={
            **axis,
            "overlaying": "y",
            "side": "right",
            "autorangeoptions": _include(warn_high.get("vibration")),
        },
    )
    return fig


def _include(limit: float | None) -> dict:
    return {"include": [limit * 0.5, limit * 1.05]} if limit else {}


def machine_tile(card: MachineCard, df: pd.DataFrame) -> dbc.Col:
    header = html.Div(
        [
            html.Div(
                [
                    html.A(
                        card.name,
                        href=f"/machine/{card.name}",
                        className="fw-bold me-2 machine-link",
                    ),
                    html.Small(f"{card.type} · {card.location}", className="text-muted"),
                ]
            ),
            dbc.Badge(
                STATUS_LABEL[card.status],
                color=STATUS_COLOR[card.status],
                id=ids.fleet_badge(card.id),
                className="fleet-badge",
            ),
        ],
        className="d-flex justify-content-between align-items-center",
    )
    graph = dcc.Graph(
        id=ids.fleet_graph(card.id),
        figure=sparkline(df, card.warn_high),
        config={"displayModeBar": False, "staticPlot": False},
    )
    risk = html.Div(risk_line(card), id=ids.fleet_risk(card.id), className=risk_class(card))
    alarms = html.Small(alarm_line(card), id=ids.fleet_alarms(card.id), className=alarm_class(card))
    return dbc.Col(
        dbc.Card(
            dbc.CardBody([header, risk, graph, alarms], className="p-2"),
            className=f"h-100 shadow-sm machine-card border-start border-4 "
            f"border-{STATUS_COLOR[card.status]}",
        ),
        sm=6,
        lg=4,
        xxl=3,
        className="mb-3",
    )


def risk_line(card: MachineCard) -> str:
    if card.failure_probability is None:
        return "No prediction yet"
    rul = f" · remaining life ≈ {card.rul_hours:.0f} h" if card.rul_hours is not None else ""
    return f"Failure risk {card.failure_probability:.0%}{rul}"


def risk_class(card: MachineCard, threshold: float = 0.8) -> str:
    if card.failure_probability is None:
        return "small text-muted"
    return "small fw-bold text-danger" if card.failure_probability >= threshold else "small"


def mode_badge(versions: dict[str, int]) -> dbc.Badge:
    """Which brain is on: the active models, or threshold rules alone."""
    if not versions:
        return dbc.Badge("Threshold rules only: no model active", color="secondary", id="mode-text")
    text = " · ".join(f"{kind} v{version}" for kind, version in sorted(versions.items()))
    return dbc.Badge(f"Models: {text}", color="info", id="mode-text")


def alarm_line(card: MachineCard) -> str:
    return card.alarm_text or "No active alarms"


def alarm_class(card: MachineCard) -> str:
    return "text-danger" if card.alarm_text else "text-muted"


def kpi_strip(cards: list[MachineCard], open_tickets: int, availability: float | None) -> dbc.Row:
    counts = {s: sum(1 for c in cards if c.status == s) for s in STATUS_COLOR}
    items = [
        ("Healthy", str(counts["ok"]), "success", "kpi-healthy"),
        ("Warning", str(counts["warning"]), "warning", "kpi-warning"),
        ("Critical", str(counts["critical"]), "danger", "kpi-critical"),
        ("Active alarms", str(sum(c.active_alarms for c in cards)), "dark", "kpi-alarms"),
        ("Open tickets", str(open_tickets), "primary", "kpi-tickets"),
        (
            "Availability this week",
            "—" if availability is None else f"{availability:.1%}",
            "dark",
            "kpi-availability",
        ),
    ]
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(label, className="text-muted small"),
                            html.Div(value, className=f"h3 mb-0 text-{color}", id=kpi_id),
                        ],
                        className="py-2",
                    ),
                    className="shadow-sm",
                ),
                xs=6,
                md=4,
                xl=2,
            )
            for label, value, color, kpi_id in items
        ],
        className="g-3 mb-3",
    )
