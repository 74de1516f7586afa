"""Small builders for the pieces pages and callbacks share (figures, badges, tables)."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from data.fleet import MachineCard
from maintenance.tickets import TicketRow
from web import ids

STATUS_COLOR = {"ok": "success", "warning": "warning", "critical": "danger", "idle": "secondary"}
STATUS_LABEL = {"ok": "Healthy", "warning": "Warning", "critical": "Critical", "idle": "No data"}
PRIORITY_COLOR = {"CRITICAL": "danger", "HIGH": "warning", "LOW": "secondary"}
STATUS_FLOW_COLOR = {"OPEN": "primary", "IN_PROGRESS": "info", "RESOLVED": "success"}
LIVE_KINDS = ("temperature", "vibration")
LIVE_POINTS = 600


def machine_figure(df: pd.DataFrame, warn_high: dict[str, float]) -> go.Figure:
    """Temperature (left axis) and vibration (right axis) with their warning limits dashed."""
    fig = go.Figure()
    axes = {}
    for kind, color, axis in (("temperature", "#d9480f", "y"), ("vibration", "#1c7ed6", "y2")):
        part = df[df["kind"] == kind] if not df.empty else df
        fig.add_trace(
            go.Scatter(
                x=list(part["ts"]) if not part.empty else [],
                y=list(part["value"]) if not part.empty else [],
                name=kind,
                mode="lines",
                line={"color": color, "width": 1.5},
                yaxis=axis,
            )
        )
        limit = warn_high.get(kind)
        axes[axis] = {"autorangeoptions": {"include": [limit * 0.5, limit * 1.05]}} if limit else {}
        if limit:
            fig.add_hline(
                y=limit, line={"color": color, "dash": "dot", "width": 1}, yref=axis, opacity=0.7
            )
    fig.update_layout(
        height=170,
        margin={"l": 36, "r": 36, "t": 8, "b": 24},
        uirevision="live",
        showlegend=False,
        plot_bgcolor="#fff",
        paper_bgcolor="#fff",
        yaxis={"title": {"text": "°C", "font": {"color": "#d9480f", "size": 11}}, **axes["y"]},
        yaxis2={
            "title": {"text": "mm/s", "font": {"color": "#1c7ed6", "size": 11}},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            **axes["y2"],
        },
        xaxis={"showgrid": False},
    )
    return fig


def machine_card(card: MachineCard, df: pd.DataFrame) -> dbc.Col:
    header = dbc.CardHeader(
        html.Div(
            [
                html.Div(
                    [
                        html.Strong(card.name, className="me-2"),
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
    )
    graph = dcc.Graph(
        id=ids.fleet_graph(card.id),
        figure=machine_figure(df, card.warn_high),
        config={"displayModeBar": False},
    )
    risk = html.Div(risk_line(card), id=ids.fleet_risk(card.id), className=risk_class(card))
    alarms = html.Small(alarm_line(card), id=ids.fleet_alarms(card.id), className=alarm_class(card))
    return dbc.Col(
        dbc.Card(
            [header, dbc.CardBody([graph, risk, alarms], className="p-2")],
            className="h-100 shadow-sm machine-card",
        ),
        md=6,
        xl=4,
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


def kpi_strip(cards: list[MachineCard], open_tickets: int) -> dbc.Row:
    counts = {s: sum(1 for c in cards if c.status == s) for s in STATUS_COLOR}
    items = [
        ("Healthy", counts["ok"], "success"),
        ("Warning", counts["warning"], "warning"),
        ("Critical", counts["critical"], "danger"),
        ("Active alarms", sum(c.active_alarms for c in cards), "dark"),
        ("Open tickets", open_tickets, "primary"),
    ]
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(label, className="text-muted small"),
                            html.Div(str(value), className=f"h3 mb-0 text-{color}"),
                        ]
                    ),
                    className="shadow-sm",
                )
            )
            for label, value, color in items
        ],
        className="g-3 mb-3",
    )


def age(ts: datetime) -> str:
    minutes = int((datetime.now(UTC) - ts).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes < 1440 else f"{minutes // 1440} d"


def ticket_table(rows: list[TicketRow], *, can_act: bool) -> html.Div:
    if not rows:
        return html.Div(
            dbc.Alert(
                "No tickets here. When a machine gets sick, its ticket appears in this list.",
                color="light",
            ),
            id="tickets-empty",
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "#",
                    "Priority",
                    "Machine",
                    "Code",
                    "Problem",
                    "Status",
                    "Technician",
                    "Age",
                    "",
                )
            ]
        )
    )
    body = html.Tbody([_ticket_row(r, can_act) for r in rows])
    return dbc.Table([head, body], hover=True, responsive=True, className="align-middle")


def _ticket_row(r: TicketRow, can_act: bool) -> html.Tr:
    return html.Tr(
        [
            html.Td(f"#{r.id}"),
            html.Td(dbc.Badge(r.priority.value, color=PRIORITY_COLOR[r.priority.value])),
            html.Td(r.machine),
            html.Td(html.Code(r.code)),
            html.Td(r.title),
            html.Td(
                dbc.Badge(
                    r.status.value.replace("_", " "), color=STATUS_FLOW_COLOR[r.status.value]
                ),
                id=f"ticket-status-{r.id}",
            ),
            html.Td(html.Span(r.technician or "—", title=r.assignment_reason)),
            html.Td(age(r.created_at)),
            html.Td(_actions(r) if can_act else ""),
        ],
        id=f"ticket-row-{r.id}",
    )


def _actions(r: TicketRow) -> html.Div:
    buttons = {
        "OPEN": [("start", "Start work", "primary")],
        "IN_PROGRESS": [("resolve", "Resolve…", "success"), ("release", "Put back", "secondary")],
        "RESOLVED": [("reopen", "Reopen", "outline-secondary")],
    }[r.status.value]
    return html.Div(
        [
            dbc.Button(
                label, id=ids.ticket_action(r.id, action), color=color, size="sm", className="me-1"
            )
            for action, label, color in buttons
        ]
    )
