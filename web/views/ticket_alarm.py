"""Ticket detail, the alarm panel: the alarm that opened the ticket (its reading then and
now), the machine's latest prediction and the alarms of the same visit joined to it."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import html

from maintenance.rendering.human_units import format_remaining
from maintenance.repair.ticket_detail import AlarmInfo, PredictionInfo, TicketDetail

__all__ = ["alarm_panel", "utc_when"]

# ids of the panel's components
TICKET_ALARM_MESSAGE = "ticket-alarm-message"
TICKET_JOINED_ALARMS = "ticket-joined-alarms"
TICKET_PREDICTION = "ticket-prediction"


def utc_when(ts: datetime) -> str:
    """A moment as the ticket page writes it: minutes, in UTC."""
    return f"{ts:%Y-%m-%d %H:%M} UTC"


def alarm_panel(d: TicketDetail) -> list:
    """What raised the ticket: its alarm, the latest prediction and the alarms joined since."""
    a = d.alarm
    parts = [
        _alarm_lines(a)
        if a is not None
        else html.P("Opened without an alarm.", className="text-muted mb-0")
    ]
    if d.prediction is not None:
        parts.append(_prediction(d.prediction))
    if d.joined:
        parts.append(_joined(d.joined))
    return parts


def _joined(alarms: list[AlarmInfo]) -> html.Div:
    """Alarms of the same machine raised while this ticket was open: the same visit."""
    rows = [
        html.Li(
            [
                dbc.Badge(
                    a.severity.lower(),
                    color="danger" if a.severity == "CRITICAL" else "warning",
                    className="me-1",
                ),
                html.A(a.code, href=f"/sops?code={a.code}", title="Its SOP", className="me-1"),
                html.Span(a.message),
                html.Span(
                    f" · {utc_when(a.raised_at)}" + (", cleared" if a.cleared_at else ""),
                    className="text-muted",
                ),
            ],
            className="mb-1",
        )
        for a in alarms
    ]
    return html.Div(
        [
            html.Div("Also alarmed while open", className="fw-semibold"),
            html.Ul(rows, className="list-unstyled small mb-0 mt-1", id=TICKET_JOINED_ALARMS),
        ],
        className="border-top pt-2 mt-2",
    )


def _alarm_lines(a: AlarmInfo) -> html.Div:
    state = f"cleared {utc_when(a.cleared_at)}" if a.cleared_at else "still active"
    raised = [
        html.Dt("When raised", className="col-5"),
        html.Dd(a.raised_reading, className="col-7"),
    ]
    return html.Div(
        [
            html.Div(a.message, id=TICKET_ALARM_MESSAGE),
            html.Dl(
                [
                    html.Dt("Value", className="col-5"),
                    html.Dd(a.reading or "—", className="col-7", id="ticket-alarm-value"),
                    *(raised if a.raised_reading and a.raised_reading != a.reading else []),
                    html.Dt("Raised", className="col-5"),
                    html.Dd(utc_when(a.raised_at), className="col-7"),
                    html.Dt("Severity, source", className="col-5"),
                    html.Dd(f"{a.severity.lower()}, {a.source}", className="col-7"),
                    html.Dt("State", className="col-5"),
                    html.Dd(state, className="col-7"),
                ],
                className="row small mb-0 mt-2",
            ),
        ]
    )


def _prediction(p: PredictionInfo) -> html.Div:
    items = []
    if p.failure_probability is not None:
        items.append(f"failure probability {p.failure_probability:.0%}")
    if p.rul_hours is not None:
        items.append(f"remaining life {format_remaining(p.rul_hours)}")
    if p.anomaly_score is not None:
        items.append(f"anomaly score {p.anomaly_score:.2f}")
    return html.Div(
        [
            html.Div(
                f"Latest prediction ({utc_when(p.ts)}): " + ", ".join(items), id=TICKET_PREDICTION
            ),
            html.Div(
                ["Contributing sensors: "]
                + [
                    dbc.Badge(s, color="warning", text_color="dark", className="me-1")
                    for s in p.top_sensors
                ]
                if p.top_sensors
                else "No contributing sensors recorded.",
                className="mt-1",
            ),
        ],
        className="small border-top pt-2 mt-2",
    )
