"""The breakdown report as a one-to-two-page A4 PDF: KPIs, three charts, the machine table.

fpdf2 with DejaVu Sans embedded (``maintenance.rendering.pdf_fonts``: "≈", "–" and every name print
as written) and charts drawn by matplotlib's Agg canvas into PNGs in memory. A
large fleet is cut to the machines with the most downtime; the CSV always holds them all.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from maintenance.rendering.human_units import format_hours
from maintenance.rendering.pdf_fonts import FONT, unicode_pdf
from maintenance.reporting.report_data import MachineRow, ReportData, Stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["report_pdf", "TITLE"]

TITLE = "Breakdown report"
TABLE_MACHINES = 30  # rows of the machine table; more would not fit on two pages
CHART_MACHINES = 15
_WIDTH = 186.0  # A4 minus 12 mm margins
_BREAKDOWN, _PLANNED, _OTHER = "#c0392b", "#7f8c8d", "#2c3e50"


def report_pdf(report: ReportData) -> bytes:
    """The report as an A4 PDF for printing or mailing."""
    pdf = unicode_pdf(TITLE)
    pdf.add_page()
    _heading(pdf, report)
    _kpis(pdf, report.total)
    top = sorted(report.machines, key=_worst_first)
    y = pdf.get_y() + 2
    pdf.image(_png(_weeks_chart(report), 92, 52), x=12, y=y, w=92, h=52)
    pdf.image(_png(_alarms_chart(report), 92, 52), x=106, y=y, w=92, h=52)
    height = min(90.0, 16 + 5.0 * min(len(top), CHART_MACHINES))
    pdf.image(
        _png(_downtime_chart(top[:CHART_MACHINES]), _WIDTH, height),
        x=12,
        y=y + 54,
        w=_WIDTH,
        h=height,
    )
    pdf.set_y(y + 56 + height)
    _machine_table(pdf, top[:TABLE_MACHINES], len(report.machines))
    _type_table(pdf, report)
    return bytes(pdf.output())


def _worst_first(m: MachineRow) -> tuple[float, int, str]:
    return (-m.stats.breakdown_h, -m.stats.breakdowns, m.name)


def _heading(pdf: FPDF, report: ReportData) -> None:
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 9, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    generated = f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC"
    pdf.cell(
        0,
        6,
        f"{_period(report.start, report.end)}   ({generated})",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(2)


def _period(start: datetime, end: datetime) -> str:
    """Whole days read as inclusive dates; anything else as the exact half-open range."""
    if start.time() == end.time() == datetime.min.time():
        return f"{start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d} (UTC)"
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC (end excluded)"


def _kpis(pdf: FPDF, total: Stats) -> None:
    kpis = [
        ("Breakdowns", str(total.breakdowns)),
        ("Breakdown downtime", format_hours(total.breakdown_h)),
        ("Planned downtime", format_hours(total.planned_h)),
        ("MTBF", format_hours(total.mtbf_h, "-")),
        ("MTTR", format_hours(total.mttr_h, "-")),
        ("Availability", _pct(total.availability)),
    ]
    width, x, y = _WIDTH / len(kpis), pdf.l_margin, pdf.get_y()
    for i, (label, value) in enumerate(kpis):
        pdf.set_xy(x + i * width, y)
        pdf.set_font(FONT, "", 8)
        pdf.cell(width, 4, label, align="C")
        pdf.set_xy(x + i * width, y + 4)
        pdf.set_font(FONT, "B", 13)
        pdf.cell(width, 7, value, align="C")
    pdf.set_xy(x, y + 13)


def _machine_table(pdf: FPDF, machines: Sequence[MachineRow], total: int) -> None:
    _subheading(
        pdf,
        "Machines"
        + (
            f" (the {len(machines)} with most downtime of {total}; all are in the CSV)"
            if len(machines) < total
            else ""
        ),
    )
    rows = [(m.name, m.type, m.stats) for m in machines]
    _stats_table(pdf, ("Machine", "Type"), rows)


def _type_table(pdf: FPDF, report: ReportData) -> None:
    _subheading(pdf, "Machine types")
    rows = [(t.type, str(t.machines), t.stats) for t in report.types]
    _stats_table(pdf, ("Type", "Machines"), rows)


def _subheading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _stats_table(pdf: FPDF, first: tuple[str, str], rows: list[tuple[str, str, Stats]]) -> None:
    pdf.set_font(FONT, "", 8)
    headings = (
        *first,
        "Breakdowns",
        "Breakdown",
        "Planned",
        "Availability",
        "MTBF",
        "MTTR",
    )
    with pdf.table(
        col_widths=(34, 24, 23, 22, 20, 21, 21, 21),  # DejaVu is wider than Helvetica
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=4.6,
        width=_WIDTH,
    ) as table:
        table.row(headings)
        for a, b, s in rows:
            table.row(
                [
                    a,
                    b,
                    str(s.breakdowns),
                    format_hours(s.breakdown_h),
                    format_hours(s.planned_h),
                    _pct(s.availability),
                    format_hours(s.mtbf_h, "-"),
                    format_hours(s.mttr_h, "-"),
                ]
            )


def _weeks_chart(report: ReportData) -> Figure:
    fig, ax = _figure("Breakdowns per week")
    labels = [w.label for w in report.weeks]
    bars = ax.bar(range(len(labels)), [w.breakdowns for w in report.weeks], color=_BREAKDOWN)
    step = 1 + len(labels) // 14  # a long range labels every few weeks, not a smudge
    ax.set_xticks(range(0, len(labels), step), labels[::step])
    if len(labels) <= 14:
        ax.bar_label(bars, fontsize=7)
    _whole_numbers(ax)
    ax.tick_params(axis="x", labelrotation=45 if len(labels) > 4 else 0)
    return fig


def _alarms_chart(report: ReportData) -> Figure:
    fig, ax = _figure("Alarms by source")
    sources = sorted({a.source for a in report.alarms})
    if not sources:
        return _empty(fig, ax, "No alarms")
    bottom = [0] * len(sources)
    for severity, color in (("WARNING", "#e67e22"), ("CRITICAL", _BREAKDOWN)):
        counts = [
            sum(a.alarms for a in report.alarms if (a.source, a.severity) == (s, severity))
            for s in sources
        ]
        ax.bar(sources, counts, bottom=bottom, color=color, label=severity.lower())
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    silenced = {s: sum(a.silenced for a in report.alarms if a.source == s) for s in sources}
    ax.set_xticks(range(len(sources)), [f"{s}\n({silenced[s]} silenced)" for s in sources])
    _whole_numbers(ax)
    _legend_outside(fig)
    return fig


def _legend_outside(fig: Figure) -> None:
    """The legend above the plot, right of the title: inside, it covered the longest bar."""
    fig.legend(loc="outside upper right", ncols=2, fontsize=7, frameon=False)


def _downtime_chart(machines: Sequence[MachineRow]) -> Figure:
    shown = [m for m in machines if m.stats.breakdown_h or m.stats.planned_h][::-1]
    longest = max((m.stats.breakdown_h + m.stats.planned_h for m in shown), default=0.0)
    unit, per_hour = ("minutes", 60.0) if longest < 2 else ("hours", 1.0)
    fig, ax = _figure(f"Downtime by machine ({unit})")
    if not shown:
        return _empty(fig, ax, "No downtime")
    names = [m.name for m in shown]
    broken = [m.stats.breakdown_h * per_hour for m in shown]
    planned = [m.stats.planned_h * per_hour for m in shown]
    ax.barh(names, broken, color=_BREAKDOWN, label="breakdown")
    ax.barh(names, planned, left=broken, color=_PLANNED, label="planned")
    _legend_outside(fig)
    return fig


def _figure(title: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # lazy: only report builders pay for matplotlib

    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=9, color=_OTHER, loc="left")
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _whole_numbers(ax: Axes) -> None:
    """Counts on the y axis: ticks at whole numbers only."""
    from matplotlib.ticker import MaxNLocator  # loaded with the figure already

    locator = ax.yaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator)  # the default, an AutoLocator, is one
    locator.set_params(integer=True)


def _empty(fig: Figure, ax: Axes, text: str) -> Figure:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9)
    return fig


def _png(fig: Figure, width_mm: float, height_mm: float) -> io.BytesIO:
    """The figure at its place's size in the PDF, so fonts keep their point size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_size_inches(width_mm / 25.4, height_mm / 25.4)
    buf = io.BytesIO()
    FigureCanvasAgg(fig)  # attaches itself: rendering never touches pyplot's global state
    fig.savefig(buf, format="png", dpi=200)
    buf.seek(0)
    return buf


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"
