"""Machine detail, the event timeline: the range's alarms, tickets and downtimes, newest
first, each with when it happened and what it means."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import html

from data.machine_series import MachineEvent
from maintenance.rendering.human_units import format_duration

__all__ = ["timeline"]

# ids of the timeline's components
MACHINE_EVENTS_EMPTY = "machine-events-empty"
MACHINE_EVENTS_LIST = "machine-events-list"

_BADGE = {"alarm": "danger", "ticket": "info", "downtime": "secondary"}


def timeline(events: list[MachineEvent]) -> html.Div:
    if not events:
        return dbc.Alert(
            "Nothing happened in this range: no alarms, tickets or downtime.",
            color="light",
            id=MACHINE_EVENTS_EMPTY,
        )
    items = [
        dbc.ListGroupItem(
            [
                html.Div(
                    [
                        html.Div(
                            [
                                dbc.Badge(e.kind, color=_BADGE[e.kind], className="me-1"),
                                html.Strong(e.title),
                            ]
                        ),
                        html.Small(_when(e), className="text-muted"),
                    ],
                    className="d-flex justify-content-between",
                ),
                html.Small(_detail(e), className=f"text-{e.severity}"),
            ],
            className="machine-event",
        )
        for e in events
    ]
    return dbc.ListGroup(items, flush=True, id=MACHINE_EVENTS_LIST)


def _detail(e: MachineEvent) -> str:
    """A downtime says how long it lasted ("12 min: rpm fell to zero"); others as given."""
    if e.kind != "downtime":
        return e.detail
    lasted = format_duration(((e.end or datetime.now(UTC)) - e.start).total_seconds())
    still = "" if e.end else ", still down"
    return f"{lasted}{still}" + (f": {e.detail}" if e.detail else "")


def _when(e: MachineEvent) -> str:
    start = e.start.strftime("%Y-%m-%d %H:%M")
    if e.end is None:
        return f"{start} → now"
    return (
        f"{start} → {e.end.strftime('%H:%M' if e.end.date() == e.start.date() else '%m-%d %H:%M')}"
    )
