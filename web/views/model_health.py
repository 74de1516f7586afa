"""The model-health page's ids and builders: the drift heat map, the reference against the
current distributions of the worst features, the realised quality table and the active
models' card (plain values in, components and figure dicts out)."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from maintenance.model_health.health_view import ActiveModel
from maintenance.model_health.realised_quality import Quality
from maintenance.rendering.human_units import format_duration, format_hours
from web.views.components import figure_layout
from web.views.lab_explore import lab_link
from web.views.lab_explore_figures import empty_figure

MH_TYPE = "model-health-type"
MH_MODELS = "model-health-models"
MH_HEATMAP = "model-health-heatmap"
MH_DISTRIBUTIONS = "model-health-distributions"
MH_QUALITY = "model-health-quality"
MH_LAB = "model-health-lab"
MH_NOTE = "model-health-note"
MH_LAB_LINK = "model-health-lab-link"

WORST = 3  # features whose distributions are drawn


def heatmap_figure(history: pd.DataFrame, threshold: float) -> dict:
    """PSI per feature (rows) and check (columns), the type's and, "(one machine)", the
    highest of any single machine; the colour saturates at twice the type's threshold."""
    if history.empty or history["psi"].isna().all():
        return empty_figure("No drift checks of this type yet", height=160)
    mine = history["kind"] == "machine"
    history = history.assign(
        feature=history["feature"].where(~mine, history["feature"] + " (one machine)")
    )
    grid = history.pivot_table(index="feature", columns="checked_at", values="psi", aggfunc="max")
    times = [pd.Timestamp(t).strftime("%Y-%m-%d %H:%M") for t in grid.columns]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": grid.round(3).where(grid.notna(), None).to_numpy().tolist(),
                "x": times,
                "y": list(grid.index),
                "zmin": 0,
                "zmax": 2 * threshold,
                "colorscale": [[0, "#f8f9fa"], [0.5, "#ffc107"], [1, "#dc3545"]],
                "colorbar": {"title": {"text": "PSI"}},
                "hovertemplate": "%{y}<br>%{x}<br>PSI %{z}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            left=170,
            title=f"Drift per feature over time (PSI; threshold {threshold:g})",
            xaxis={"type": "category", "title": {"text": "check (UTC)"}},
            height=max(320, 22 * len(grid.index) + 120),
        ),
    }


def distributions_figure(latest: list) -> dict:
    """Reference against current shares per reference decile, for the worst features of the
    latest check (``latest``: its DriftResult rows, highest PSI first)."""
    worst = [r for r in latest if r.psi is not None and r.reference_shares][:WORST]
    if not worst:
        return empty_figure("No distributions to compare yet", height=160)
    data = []
    for i, row in enumerate(worst, start=1):
        bins = [f"d{k + 1}" for k in range(len(row.reference_shares))]
        axis = {"xaxis": f"x{i}", "yaxis": f"y{i}"}
        data.append(_bars(bins, row.reference_shares, "training reference", "#6c757d", i, axis))
        data.append(_bars(bins, row.current_shares, "live", "#0d6efd", i, axis))
    layout = figure_layout(
        left=170, title="Worst features: share of windows per reference decile", barmode="group"
    )
    layout["margin"] = {"l": 50, "r": 20, "t": 60, "b": 45}
    layout["grid"] = {"rows": 1, "columns": len(worst), "pattern": "independent"}
    layout["annotations"] = [
        {
            "text": f"{r.feature} (PSI {r.psi:.2f})",
            "xref": f"x{i} domain",
            "yref": f"y{i} domain",
            "x": 0.5,
            "y": 1.08,
            "showarrow": False,
        }
        for i, r in enumerate(worst, start=1)
    ]
    return {"data": data, "layout": layout}


def _bars(bins: list[str], shares: list, name: str, colour: str, i: int, axis: dict) -> dict:
    return {
        "type": "bar",
        "x": bins,
        "y": shares,
        "name": name,
        "marker": {"color": colour},
        "showlegend": i == 1,
        "legendgroup": name,
        **axis,
    }


def _share(value: float | None, count: int, labels: int, what: str) -> str:
    if value is None:
        return f"too few {what} ({labels})"
    return f"{value:.0%} ({count} of {labels})"


def quality_table(rows: list[Quality]) -> dbc.Table:
    """Realised quality over the rolling periods, counts beside every share."""
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Last",
                    "Failure alarms",
                    "Precision (confirmed of verdicts)",
                    "False alarms",
                    "Failures caught",
                    "Median lead",
                    "Anomaly alarms per machine-week",
                )
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(f"{q.days} days"),
                    html.Td(str(q.alarms)),
                    html.Td(
                        _share(q.precision, q.confirmed, q.confirmed + q.false_alarms, "verdicts")
                    ),
                    html.Td(str(q.false_alarms)),
                    html.Td(_share(q.recall, q.caught, q.failures, "failures")),
                    html.Td(format_hours(q.lead_h, "too few")),
                    html.Td(
                        "—"
                        if q.anomaly_per_machine_week is None
                        else f"{q.anomaly_per_machine_week:.2f} ({q.anomaly_alarms})"
                    ),
                ]
            )
            for q in rows
        ]
    )
    return dbc.Table([head, body], bordered=False, hover=True, size="sm", className="mb-0")


def machine_note(rows: list, names: dict[int, str], threshold: float) -> str:
    """The machine that moved on its own in the latest check (its drifted level features),
    or nothing."""
    moved = [r for r in rows if r.kind == "machine" and r.status == "drift"]
    if not moved:
        return ""
    top = max(moved, key=lambda r: r.psi or 0.0)
    name = names.get(top.worst_machine_id or -1, f"machine {top.worst_machine_id}")
    features = ", ".join(
        f"{r.feature} PSI {r.psi:.2f}" for r in moved if r.worst_machine_id == top.worst_machine_id
    )
    return (
        f"{name} moved on its own: its {features} against the type's reference "
        f"(machine threshold {threshold:g})."
    )


def models_card(models: list[ActiveModel], machine_type: str, now: datetime) -> html.Div:
    """The active models: version, family, age, training range, reference for this type."""
    if not models:
        return html.P("No active model: the plant runs on the threshold rules alone.")
    items = []
    for m in models:
        age = format_duration((now - (m.promoted_at or m.trained_at)).total_seconds())
        span = (
            f"{_day(m.train_from)} – {_day(m.train_to)}"
            if m.train_from and m.train_to
            else "unknown"
        )
        ref = (m.reference or {}).get(machine_type)
        reference = (
            f"{ref} training windows of {machine_type}"
            if ref
            else "no reference for drift (trained before drift checks, or not on this type)"
        )
        family = f" ({m.family})" if m.family else ""
        items.append(
            html.Li(
                f"{m.kind} v{m.version}{family}: active for {age}, trained on {span}; {reference}"
            )
        )
    return html.Ul(items, className="mb-0")


def lab_note(
    period: tuple[datetime, datetime] | None, machine_type: str, machine: str | None = None
) -> list:
    """The link into the model lab: with a drifted period, its days and the type's machines
    (or the machine that moved) pre-selected in the Explore tab."""
    if period is None:
        link = html.A("Open the model lab", href="/lab", className="btn btn-outline-primary btn-sm")
        return [link, html.Span(" No drift in the latest check.", className="ms-2 text-muted")]
    first, last = (t.astimezone(UTC).date() for t in period)
    href = lab_link(machine_type=machine_type, start=first, end=last, machine=machine)
    who = machine or f"the {machine_type} machines"
    link = html.A(
        "Explore the drifted period in the model lab",
        href=href,
        className="btn btn-outline-primary btn-sm",
        id=MH_LAB_LINK,
    )
    text = f" Drifted period: {_minute(period[0])} – {_minute(period[1])} UTC ({who})."
    return [link, html.Span(text, className="ms-2")]


def _day(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d")


def _minute(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
