"""Small builders for the pieces pages and callbacks share (colours, ages, row lists)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dash import Patch, ctx, html
from dash.exceptions import PreventUpdate

from maintenance.rendering.human_units import format_duration

PRIORITY_COLOR = {"CRITICAL": "danger", "HIGH": "warning", "LOW": "secondary"}
STATUS_FLOW_COLOR = {"OPEN": "primary", "IN_PROGRESS": "info", "RESOLVED": "success"}


def row_list_patch(add_id: object, row_ids: list[dict], new_row: Callable[[int], object]) -> Patch:
    """The change to an add/remove list of form rows (ids carry ``row``): a click on
    ``add_id`` appends ``new_row(next row number)``, a click on a row's remove button
    deletes that row; a row appearing (no click) changes nothing."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate  # a row appeared, nobody clicked
    patch = Patch()
    rows = [r["row"] for r in row_ids]
    if ctx.triggered_id == add_id:
        patch.append(new_row(max(rows, default=-1) + 1))
    elif ctx.triggered_id["row"] in rows:
        del patch[rows.index(ctx.triggered_id["row"])]
    else:
        raise PreventUpdate  # a row the page does not show (never sent by a browser)
    return patch


def age(ts: datetime) -> str:
    """How long ago ``ts`` was, as every page says durations ("12 min", "1 h 20 min")."""
    return format_duration(round((datetime.now(UTC) - ts).total_seconds()))


def figure_layout(title: str, *, left: int = 55, **extra: object) -> dict:
    """The plain layout of the pages' small figures (a figure dict, no graph objects): a
    left-aligned title, white ground, ``left`` pixels for the y-axis labels."""
    return {
        "title": {"text": title, "font": {"size": 14}, "x": 0.02},
        "margin": {"l": left, "r": 20, "t": 40, "b": 45},
        "autosize": True,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"size": 12},
        **extra,
    }


def fields_form(children: list) -> html.Form:
    """A card's fields inside a ``<form>``, as browsers expect of password fields (Chromium
    logs each one outside a form). Nothing submits it: its buttons must be
    ``type="button"`` (Dash's callbacks act on their clicks), and with more than one text
    field Enter does not submit a form that has no submit button."""
    return html.Form(children, autoComplete="off")
