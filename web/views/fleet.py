"""Fleet overview pieces: the KPI strip and one tile per machine (status, risk, and the sparkline
of ``fleet_sparkline.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from maintenance.machine_status.machine_state import MachineCard
from maintenance.rendering.human_units import format_duration, format_remaining
from web.views.fleet_sparkline import Series, sparkline

__all__ = [
    "ANY",
    "STATUS_COLOR",
    "STATUS_LABEL",
    "alarm_class",
    "alarm_line",
    "badge_class",
    "card_class",
    "clock_note",
    "fleet_filter",
    "kpi_strip",
    "machine_tile",
    "mode_badge",
    "risk_class",
    "risk_line",
    "state_line",
]

# ids of this page's components
FLEET_GRID = "fleet-grid"
FLEET_SPARK_LEGEND = "fleet-spark-legend"  # what the tiles' lines are, above them
FLEET_KPIS = "fleet-kpis"
FLEET_TICK = "fleet-tick"
FLEET_CURSOR = "fleet-cursor"
FLEET_GRAPH = "fleet-graph"
FLEET_BADGE = "fleet-badge"
FLEET_ALARMS = "fleet-alarms"
FLEET_RISK = "fleet-risk"
FLEET_MODE = "fleet-mode"
FLEET_CLOCK = "fleet-clock"  # the demo's note that its machines live faster than the clock
FLEET_CARD = "fleet-card"
FLEET_TYPE = "fleet-type"
FLEET_LOCATION = "fleet-location"
FLEET_CLOCK_NOTE = "fleet-clock-note"
FLEET_EMPTY = "fleet-empty"
MACHINE_STATE_LINE = "machine-state-line"
MODE_TEXT = "mode-text"
ANY = "__all__"  # the type and location filters' "All" choice


def fleet_card(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_CARD, "machine": machine_id}


def fleet_graph(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_GRAPH, "machine": machine_id}


def fleet_badge(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_BADGE, "machine": machine_id}


def fleet_alarms(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_ALARMS, "machine": machine_id}


def fleet_risk(machine_id: int) -> dict[str, object]:
    return {"type": FLEET_RISK, "machine": machine_id}


def fleet_filter(filter_id: str, label: str) -> dbc.InputGroup:
    """A type or location filter, "All" until the callback adds the fleet's values."""
    return dbc.InputGroup(
        [
            dbc.InputGroupText(label),
            dbc.Select(id=filter_id, options=[{"label": "All", "value": ANY}], value=ANY),
        ],
        size="sm",
        className="me-2",
        style={"width": "auto"},
    )


STATUS_COLOR = {
    "ok": "success",
    "warning": "warning",
    "critical": "danger",
    "stopped": "dark",
    "maintenance": "info",
    "no_data": "secondary",
    "idle": "secondary",  # retired since the page was built
}
STATUS_LABEL = {
    "ok": "Healthy",
    "warning": "Warning",
    "critical": "Critical",
    "stopped": "Stopped",
    "maintenance": "In maintenance",
    "no_data": "No data yet",
    "idle": "No data",
}


def machine_tile(card: MachineCard, series: Series, threshold: float) -> html.Div:
    """One tile, in few plain html components with Bootstrap classes: 200 tiles are built
    per page load, and every component object costs (dbc's wrappers ten times more);
    ``threshold``: the failure alarm's in force (the risk line is red from there)."""
    header = html.Div(
        [
            # the name never breaks ("compressor-/01"); the type and place wrap instead
            html.A(
                card.name,
                href=f"/machine/{card.name}",
                className="fw-bold machine-link text-nowrap",
            ),
            html.Small(f"{card.type} · {card.location}", className="text-muted ms-2 me-auto"),
            html.Span(
                STATUS_LABEL[card.status],
                id=fleet_badge(card.id),
                className=badge_class(card.status),
            ),
        ],
        className="d-flex align-items-center",
    )
    graph = dcc.Graph(
        id=fleet_graph(card.id),
        figure=sparkline(series, card.warn_high),
        config={"displayModeBar": False},
    )
    risk = html.Div(risk_line(card), id=fleet_risk(card.id), className=risk_class(card, threshold))
    alarms = html.Small(alarm_line(card), id=fleet_alarms(card.id), className=alarm_class(card))
    tile = html.Div(
        [header, risk, graph, alarms], className=card_class(card.status), id=fleet_card(card.id)
    )
    return html.Div(tile, className="col-sm-6 col-lg-4 col-xxl-3 mb-3")


def state_line(card: MachineCard | None, threshold: float) -> html.Div:
    """A machine's state badge and what it means now (the machine page's header)."""
    if card is None:
        return html.Div("Retired: not in service.", className="text-muted small")
    return html.Div(
        [
            html.Span(STATUS_LABEL[card.status], className=badge_class(card.status) + " me-2"),
            html.Span(risk_line(card), className=risk_class(card, threshold)),
        ],
        id=MACHINE_STATE_LINE,
        className="d-flex align-items-center",
    )


def badge_class(status: str) -> str:
    return f"badge fleet-badge bg-{STATUS_COLOR[status]}"


def card_class(status: str) -> str:
    return f"card p-2 h-100 shadow-sm machine-card border-4 border-{STATUS_COLOR[status]}"


def risk_line(card: MachineCard, now: datetime | None = None) -> str:
    """Failure risk and remaining life of a running machine; what a stopped, resting or
    silent one is doing instead (its last prediction is stale: stopped machines are not
    scored)."""
    if not card.running:
        return _not_running(card, now or datetime.now(UTC))
    if card.failure_probability is None:
        return "No prediction yet"
    rul = (
        f" · remaining life {format_remaining(card.rul_hours)}"
        if card.rul_hours is not None
        else ""
    )
    return f"Failure risk {card.failure_probability:.0%}{rul}"


def _not_running(card: MachineCard, now: datetime) -> str:
    if card.status == "no_data":
        return "Waiting for its first reading"
    what = "Stopped" if card.status == "stopped" else "In maintenance"
    if card.since is None:
        return f"{what}: rpm at or below its critical limit"
    return f"{what} for {format_duration((now - card.since).total_seconds())}"


def risk_class(card: MachineCard, threshold: float) -> str:
    if card.status == "stopped":
        return "small fw-bold text-dark"
    if not card.running or card.failure_probability is None:
        return "small text-muted"
    return "small fw-bold text-danger" if card.failure_probability >= threshold else "small"


def clock_note(time_scale: float) -> html.Small | None:
    """In the demo, what its fast clock means for the numbers on screen; nothing at 1x."""
    if time_scale == 1:
        return None
    return html.Small(
        f"Demo clock: the simulated machines age {time_scale:g}× faster than real time (an "
        f"hour of wear passes in {format_duration(3600 / time_scale)}). Remaining life and "
        "every other time on these pages is real, wall-clock time.",
        className="text-muted d-block mb-2",
        id=FLEET_CLOCK_NOTE,
    )


def mode_badge(versions: dict[str, int], family: str | None = None) -> dbc.Badge:
    """Which brain is on: the active models (and the failure model's family), or threshold
    rules alone."""
    if not versions:
        return dbc.Badge("Threshold rules only: no model active", color="secondary", id=MODE_TEXT)
    text = " · ".join(f"{kind} v{version}" for kind, version in sorted(versions.items()))
    if family and "failure" in versions:
        text += f" ({family})"
    return dbc.Badge(f"Models: {text}", color="info", id=MODE_TEXT)


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
        ("Stopped", str(counts["stopped"]), "dark", "kpi-stopped"),
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
                md=3,
                xl=True,
            )
            for label, value, color, kpi_id in items
        ],
        className="g-3 mb-3",
    )
