"""The explore view's summary line and download links: what its figures are made of (the
step, the windows and their labels, the baseline), and the links that export exactly that view."""

from __future__ import annotations

from urllib.parse import urlencode

from dash import html

from maintenance.rendering.human_units import format_duration
from ml.lab.explore import Exploration, Plan, Selection
from ml.lab.explore_stats import DOWN, HEALTHY, PRE_FAILURE

__all__ = ["DOWNLOAD_LINKS", "downloads", "export_href", "model_time", "summary"]

LAB_EXPLORE_CAPTION = "lab-explore-caption"


def model_time(seconds: float, time_scale: float) -> str:
    """A length of recorded time, and what it is on the models' clock when the data's
    machines lived faster than the clock (the demo's simulator)."""
    if time_scale == 1:
        return format_duration(seconds)
    model = format_duration(seconds * time_scale)
    return f"{format_duration(seconds)} (the models' {model} at {time_scale:g}×)"


def summary(ex: Exploration, time_scale: float = 1.0) -> html.Div:
    """What the figures are made of: the step, the windows and their labels, the baseline."""
    grid, counts = ex.grid, ex.label_counts()
    lines = [
        f"{len(ex.windows):,} windows of {grid.window} steps × {format_duration(grid.step_s)} "
        f"({format_duration(grid.window * grid.step_s)}), one every {ex.stride} step"
        f"{'s' if ex.stride > 1 else ''}: ",
        html.Span(f"{counts.get(HEALTHY, 0):,} healthy", className="text-success"),
        ", ",
        html.Span(f"{counts.get(PRE_FAILURE, 0):,} pre-failure", className="text-warning"),
        f" (a failure follows within H = {model_time(grid.horizon_s, time_scale)}), ",
        html.Span(f"{counts.get(DOWN, 0):,} down", className="text-secondary"),
        f". Features in standard deviations from healthy, against {ex.baseline or 'no baseline'}.",
    ]
    if grid.raised:
        lines.append(
            f" The step was raised to {format_duration(grid.step_s)} so the view stays small "
            "(pick fewer machines or a shorter range for a finer one)."
        )
    return html.Div(html.Small(lines, className="text-muted"), id=LAB_EXPLORE_CAPTION)


# (id, label, format, what) of each download link
DOWNLOAD_LINKS = (
    ("lab-explore-csv", "Download CSV", "csv", "series"),
    ("lab-explore-parquet", "Download Parquet", "parquet", "series"),
    ("lab-explore-features-csv", "Features CSV", "csv", "features"),
    ("lab-explore-features-parquet", "Features Parquet", "parquet", "features"),
    ("lab-explore-scores-csv", "Scores CSV", "csv", "scores"),
)


def export_href(selection: Selection, grid: Plan, fmt: str, what: str = "series") -> str:
    """The link that downloads exactly this view (its grid: start, end and step)."""
    query = {
        "machines": ",".join(selection.machines),
        "sensors": ",".join(selection.sensors),
        "start": grid.start.isoformat(),
        "end": grid.end.isoformat(),
        "step": grid.step_s,
        "horizon_h": round(grid.horizon_s / 3600.0, 6),
    }
    if what != "series":
        query["what"] = what
    return f"/lab/export.{fmt}?{urlencode(query)}"


def downloads(selection: Selection, grid: Plan) -> html.Div:
    """Download links that follow the selection: the series, and the windows' features."""
    return html.Div(
        [
            html.A(
                label,
                href=export_href(selection, grid, fmt, what),
                id=link_id,
                className="btn btn-outline-secondary btn-sm me-1",
            )
            for link_id, label, fmt, what in DOWNLOAD_LINKS
        ],
        className="d-flex flex-wrap",
    )
