"""Reports page pieces: the headline, the KPI strip, the four charts, the stored list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from maintenance.rendering.human_units import format_hours
from maintenance.reporting.breakdown_report import ReportData, ReportInfo

__all__ = [
    "alarms_figure",
    "chart",
    "downtime_unit",
    "empty_figure",
    "headline",
    "kpis",
    "machines_figure",
    "stored",
    "types_figure",
    "weeks_figure",
]

# ids of this page's components
REPORT_RANGE = "report-range"
REPORT_PRESET = "report-preset"
REPORT_HEADLINE = "report-headline"
REPORT_KPIS = "report-kpis"
REPORT_WEEKS = "report-weeks"
REPORT_TYPES = "report-types"
REPORT_MACHINES = "report-machines"
REPORT_ALARMS = "report-alarms"
REPORT_CSV = "report-csv"
REPORT_PDF = "report-pdf"
REPORT_ERROR = "report-error"
REPORT_STORED = "report-stored"
CHART_HEIGHT = 300  # px, each chart's and its empty card's

_DAY = timedelta(days=1)
HEADLINE = "report-headline-text"
REPORT_EMPTY = "report-empty"
REPORT_STORED_EMPTY = "report-stored-empty"
_BAR = "#1c7ed6"
_DOWN = "#e03131"
_PLANNED = "#868e96"
_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 10, "b": 40},
    "plot_bgcolor": "#fff",
    "paper_bgcolor": "#fff",
    "legend": {"orientation": "h", "y": 1.12},
}


def headline(r: ReportData, label: str = "") -> dbc.Alert:
    """The manager's question, answered first for the range picked: how many machines broke
    down (``label`` names a preset, e.g. "Last week")."""
    broken = [m for m in r.machines if m.stats.breakdowns]
    n = r.total.breakdowns
    names = ", ".join(m.name for m in broken[:6]) + (" …" if len(broken) > 6 else "")
    days = f"{r.start:%d %b %Y} – {r.end - _DAY:%d %b %Y}"
    so_far = " so far" if r.generated_at < r.end else ""
    period = f"{label} ({days})" if label else days
    if not r.machines:
        return dbc.Alert(
            html.Strong(
                f"{period}: no data in this range (no machine was in service).", id=HEADLINE
            ),
            color="light",
            className="py-2",
            id=REPORT_EMPTY,
        )
    text = (
        f"{period}: {len(broken)} "
        f"machine{'s' * (len(broken) != 1)} broke down{so_far}, {n} breakdown{'s' * (n != 1)}"
    )
    return dbc.Alert(
        [html.Strong(text, id=HEADLINE), html.Span(f". {names}" if names else ".")],
        color="danger" if n else "success",
        className="py-2",
    )


AVAILABILITY_GOOD, AVAILABILITY_FAIR = 0.95, 0.85  # green from 95 %, amber from 85 %, else red


def _tone(availability: float | None) -> str:
    """The availability's colour: green, amber or red; none (no scheduled time) is grey."""
    if availability is None:
        return "muted"
    if availability >= AVAILABILITY_GOOD:
        return "success"
    return "warning-emphasis" if availability >= AVAILABILITY_FAIR else "danger"


def kpis(r: ReportData) -> dbc.Row:
    t = r.total
    items = [
        (
            "Breakdowns",
            str(t.breakdowns),
            "report-breakdowns",
            "danger" if t.breakdowns else "dark",
        ),
        ("Downtime", format_hours(t.breakdown_h), "report-downtime", "dark"),
        ("Planned stops", format_hours(t.planned_h), "report-planned", "dark"),
        ("MTBF", _hours(t.mtbf_h), "report-mtbf", "dark"),
        ("MTTR", _hours(t.mttr_h), "report-mttr", "dark"),
        ("Availability", _pct(t.availability), "report-availability", _tone(t.availability)),
        ("Alarms", str(sum(a.alarms for a in r.alarms)), "report-alarm-count", "dark"),
    ]
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.Div(label, className="text-muted small"),
                            html.Div(value, className=f"h4 mb-0 text-{color}", id=kpi_id),
                        ]
                    ),
                    className="shadow-sm",
                )
            )
            for label, value, kpi_id, color in items
        ],
        className="g-3 mb-3",
    )


def weeks_figure(r: ReportData) -> go.Figure:
    if not r.machines:
        return empty_figure("No data in this range")
    fig = go.Figure(
        go.Bar(
            x=[w.label for w in r.weeks],
            y=[w.breakdowns for w in r.weeks],
            marker_color=_DOWN,
            text=[w.breakdowns or "" for w in r.weeks],
            textposition="outside",
            hovertext=[f"week of {w.week_start:%Y-%m-%d}" for w in r.weeks],
        )
    )
    fig.update_layout(**_LAYOUT, yaxis=_count_axis(max((w.breakdowns for w in r.weeks), default=0)))
    if not r.total.breakdowns:  # the weeks stay on the axis; the empty plot says why
        fig.update_layout(annotations=[_note("No breakdowns in this range")])
    return fig


def chart(figure: go.Figure) -> dcc.Graph:
    """One of the four charts, drawn into its card by the range's callback."""
    return dcc.Graph(
        figure=figure, config={"displaylogo": False}, style={"height": f"{CHART_HEIGHT}px"}
    )


def empty_figure(text: str) -> go.Figure:
    """A chart with nothing to draw says so, instead of bare axes from -1 to 6."""
    fig = go.Figure()
    fig.update_layout(
        **_LAYOUT, xaxis={"visible": False}, yaxis={"visible": False}, annotations=[_note(text)]
    )
    return fig


def _note(text: str) -> dict:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "showarrow": False,
        "font": {"size": 14, "color": "#868e96"},
    }


def types_figure(r: ReportData) -> go.Figure:
    if not r.types:
        return empty_figure("No machines in this range")
    fig = go.Figure()
    fig.add_bar(
        x=[t.type for t in r.types],
        y=[t.stats.breakdowns for t in r.types],
        name="breakdowns",
        marker_color=_DOWN,
    )
    fig.add_scatter(
        x=[t.type for t in r.types],
        y=[t.stats.availability for t in r.types],
        name="availability",
        yaxis="y2",
        mode="markers+text",
        text=[_pct(t.stats.availability) for t in r.types],
        textposition="top center",
        marker={"size": 12, "color": "#2b8a3e"},
    )
    fig.update_layout(
        **_LAYOUT,
        yaxis=_count_axis(max(t.stats.breakdowns for t in r.types)),
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 1.2],  # room above 100 % for its label, below the legend
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": ".0%",
            "showgrid": False,
        },
    )
    return fig


def _count_axis(top: int) -> dict:
    """A breakdowns axis: whole numbers only (no 0.2 breakdowns) while the counts are small."""
    axis: dict = {"title": "breakdowns", "rangemode": "tozero"}
    if top <= 10:
        axis |= {"tick0": 0, "dtick": 1, "range": [0, max(top, 1) * 1.15]}
    return axis


def machines_figure(r: ReportData, top: int = 20) -> go.Figure:
    rows = sorted(r.machines, key=lambda m: m.stats.breakdown_h + m.stats.planned_h)[-top:]
    if not any(m.stats.breakdown_h or m.stats.planned_h for m in rows):
        return empty_figure("No downtime in this range")
    names = [m.name for m in rows]
    longest = max((m.stats.breakdown_h + m.stats.planned_h for m in rows), default=0.0)
    unit, per_hour = downtime_unit(longest)
    fig = go.Figure()
    for name, hours, color in (
        ("breakdown", [m.stats.breakdown_h for m in rows], _DOWN),
        ("planned", [m.stats.planned_h for m in rows], _PLANNED),
    ):
        fig.add_bar(
            y=names,
            x=[h * per_hour for h in hours],
            name=name,
            orientation="h",
            marker_color=color,
            customdata=[format_hours(h) for h in hours],
            hovertemplate="%{y}: %{customdata}<extra>" + name + "</extra>",
        )
    fig.update_layout(**_LAYOUT, barmode="stack", xaxis={"title": unit})
    return fig


def downtime_unit(longest_h: float) -> tuple[str, float]:
    """The axis unit for downtime bars: minutes while the longest is under two hours (a
    40-second breakdown is a visible 0.7 min, not an invisible 0.01 h), else hours."""
    return ("minutes", 60.0) if longest_h < 2 else ("hours", 1.0)


def alarms_figure(r: ReportData) -> go.Figure:
    if not r.alarms:
        return empty_figure("No alarms in this range")
    fig = go.Figure()
    sources = sorted({a.source for a in r.alarms})
    for severity, color in (("WARNING", "#f59f00"), ("CRITICAL", _DOWN)):
        counts = {a.source: a.alarms for a in r.alarms if a.severity == severity}
        fig.add_bar(
            x=sources,
            y=[counts.get(s, 0) for s in sources],
            name=severity.lower(),
            marker_color=color,
        )
    fig.update_layout(**_LAYOUT, barmode="stack", yaxis={"title": "alarms", "rangemode": "tozero"})
    return fig


def stored(reports: list[ReportInfo]) -> html.Div:
    if not reports:
        return html.P(
            "No weekly report yet: the scheduler builds one every Monday for the week before.",
            className="text-muted m-3",
            id=REPORT_STORED_EMPTY,
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Week", "Breakdowns", "Downtime", "Availability", "Built", "Download")
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(
                        f"{r.period_start:%Y-%m-%d} – {r.period_end - timedelta(days=1):%Y-%m-%d}"
                    ),
                    html.Td(str(r.summary.get("breakdowns", ""))),
                    html.Td(format_hours(r.summary.get("breakdown_h", 0))),
                    html.Td(_pct(r.summary.get("availability"))),
                    html.Td(f"{r.created_at:%Y-%m-%d %H:%M}"),
                    html.Td(
                        [
                            html.A("CSV", href=f"/reports/{r.id}.csv", className="me-2"),
                            html.A("PDF", href=f"/reports/{r.id}.pdf"),
                        ]
                    ),
                ],
                className="stored-report",
            )
            for r in reports
        ]
    )
    return dbc.Table([head, body], hover=True, className="mb-0 align-middle", size="sm")


def _hours(h: float | None) -> str:
    return format_hours(h)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


class RangeError(ValueError):
    """A date range a person typed that cannot be reported on; the message says why."""


MAX_DAYS = 800


def preset_days(preset: str, today: date) -> tuple[date, date] | None:
    """(first, last) inclusive days of a preset; None for custom."""
    monday = today - timedelta(days=today.weekday())
    return {
        "last-week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "4w": (monday - timedelta(days=28), today),
        "90d": (today - timedelta(days=89), today),
    }.get(preset)


def initial_range(preset: str) -> dict[str, str]:
    """The date pickers' start and end for the page's first preset, as the preset
    callback would set them (drawn with the page: one round trip fewer)."""
    first, last = preset_days(preset, datetime.now(UTC).date()) or (None, None)
    return {"start_date": first.isoformat(), "end_date": last.isoformat()} if first and last else {}


def parse_day_range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """Inclusive calendar days (YYYY-MM-DD, UTC) as a half-open range of datetimes."""
    try:
        first = datetime.strptime(start or "", "%Y-%m-%d").replace(tzinfo=UTC)
        last = datetime.strptime(end or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise RangeError("Choose a start and an end date (YYYY-MM-DD).") from None
    if last < first:
        raise RangeError("The end date is before the start date.")
    if (last - first).days > MAX_DAYS:
        raise RangeError(f"Choose at most {MAX_DAYS} days.")
    return first, last + timedelta(days=1)
