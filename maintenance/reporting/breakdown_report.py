"""The factory manager's breakdown report for any date range, as data, CSV and PDF.

Definitions (all times UTC; a range is half-open, ``[start, end)``):

- **horizon** = min(end, now): a report of a range that has not finished yet counts only the
  hours that have passed, so the current week is not made to look better by future hours.
- **breakdown**: a ``Downtime`` of kind ``breakdown`` whose ``started_at`` is in [start, end).
  One that began before ``start`` adds downtime hours but is not counted again.
- **week**: ISO week starting Monday 00:00 UTC; every week touching the range is listed, with
  zero when nothing broke. A breakdown belongs to the week it started in.
- **machines in the report**: those in service during the range (created before ``end``, not
  retired before ``start``) plus any machine with downtime in the range.
- **scheduled hours** of a machine: from max(start, created_at) to min(horizon, retired_at).
- **downtime hours** (breakdown and planned separately): each period clipped to
  [start, horizon); a period still open (``ended_at`` empty) runs up to the horizon.
  Overlapping periods of one machine are merged, so no hour is counted twice.
- **operating hours** = scheduled hours - hours down for any reason (at least 0).
- **MTBF** = operating hours / breakdowns; None when there were no breakdowns.
- **MTTR** = total repair time / number of repaired breakdowns, where the repaired breakdowns
  are those counted in the range that have ended, each taken whole (``ended_at - started_at``,
  not clipped); None when none has ended.
- **availability** = 1 - breakdown hours / scheduled hours (planned stops do not lower it);
  None when no hour was scheduled; at least 0.
- Types and the whole fleet add up their machines' hours and counts, then apply the same
  formulas (so fleet MTBF is total operating hours / total breakdowns, not a mean of means).
- **alarms**: raised in [start, end), counted per source and severity; ``silenced`` counts
  those raised during a maintenance window, which are included in ``alarms`` as well.

The CSV is one tidy table (one row per entity, empty cells where a measure does not apply):
``section,key,machine_type,severity,breakdowns,breakdown_h,planned_h,scheduled_h,
availability,mtbf_h,mttr_h,alarms,silenced``. Sections: ``summary`` (key: the range as an ISO
8601 interval ``start/end``), ``week`` (key: the Monday's date), ``machine`` (key: its name),
``type`` (key: the type) and ``alarms`` (key: the source, with the severity). Hours have three
decimals, availability is a fraction with four. UTF-8 without BOM, CRLF line ends.

Stored weekly reports agree with the data: only weeks that have ended can be stored, storing
a week that already has a report returns that one, and ``refresh_weekly_reports`` rebuilds
every stored week whose numbers changed since it was built (a backfill, late readings that
record a stop, a resolution that corrects a breakdown); ``created_at`` is then the rebuild's
time. The worker's ``report_refresh`` job runs it every five minutes.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.models import Report, utcnow
from maintenance.reporting.report_data import (
    WEEK,
    AlarmRow,
    MachineRow,
    ReportData,
    Stats,
    TypeRow,
    WeekRow,
    as_utc,
    build_report,
    week_start_of,
)
from maintenance.reporting.report_pdf import report_pdf

__all__ = [
    "Stats",
    "MachineRow",
    "TypeRow",
    "WeekRow",
    "AlarmRow",
    "ReportData",
    "ReportInfo",
    "build_report",
    "report_csv",
    "report_pdf",
    "last_full_week",
    "store_weekly_report",
    "refresh_weekly_reports",
    "list_reports",
    "load_report_file",
    "week_start_of",
]

log = logging.getLogger(__name__)

CSV_COLUMNS = [
    "section", "key", "machine_type", "severity", "breakdowns", "breakdown_h", "planned_h",
    "scheduled_h", "availability", "mtbf_h", "mttr_h", "alarms", "silenced",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportInfo:
    id: int
    kind: str
    period_start: datetime
    period_end: datetime
    created_at: datetime
    summary: dict[str, Any] = field(hash=False)
    csv_bytes: int
    pdf_bytes: int


def report_csv(report: ReportData) -> bytes:
    """The report as one tidy CSV table (see the module docstring for its columns)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    interval = f"{report.start.isoformat()}/{report.end.isoformat()}"
    writer.writerow(
        _stats_cells("summary", interval, "", report.total) | _alarm_cells(report.alarms)
    )
    for w in report.weeks:
        writer.writerow(
            {"section": "week", "key": w.week_start.isoformat(), "breakdowns": w.breakdowns}
        )
    for m in report.machines:
        writer.writerow(_stats_cells("machine", m.name, m.type, m.stats))
    for t in report.types:
        writer.writerow(_stats_cells("type", t.type, t.type, t.stats))
    for a in report.alarms:
        writer.writerow(
            {"section": "alarms", "key": a.source, "severity": a.severity} | _alarm_cells([a])
        )
    return buf.getvalue().encode("utf-8")


def _stats_cells(section: str, key: str, machine_type: str, s: Stats) -> dict[str, object]:
    return {
        "section": section,
        "key": key,
        "machine_type": machine_type,
        "breakdowns": s.breakdowns,
        "breakdown_h": _fmt(s.breakdown_h, 3),
        "planned_h": _fmt(s.planned_h, 3),
        "scheduled_h": _fmt(s.scheduled_h, 3),
        "availability": _fmt(s.availability, 4),
        "mtbf_h": _fmt(s.mtbf_h, 3),
        "mttr_h": _fmt(s.mttr_h, 3),
    }


def _alarm_cells(rows: Iterable[AlarmRow]) -> dict[str, object]:
    rows = list(rows)
    return {"alarms": sum(a.alarms for a in rows), "silenced": sum(a.silenced for a in rows)}


def last_full_week(now: datetime) -> tuple[datetime, datetime]:
    """The last week that has ended: Monday 00:00 UTC to the following Monday."""
    this_monday = week_start_of(now)
    return this_monday - WEEK, this_monday


def store_weekly_report(
    *, session: Session, week_start: datetime, now: datetime | None = None
) -> Report:
    """Build and store the report of one finished week; an existing one is returned as is."""
    week_start, now = as_utc(week_start), as_utc(now or utcnow())
    if week_start != week_start_of(week_start):
        raise ValueError(f"a weekly report starts on a Monday 00:00 UTC, not {week_start}")
    if week_start + WEEK > now:
        raise ValueError(f"the week of {week_start.date()} has not ended yet")
    if (existing := _stored(session, "weekly", week_start)) is not None:
        return existing
    data = build_report(session=session, start=week_start, end=week_start + WEEK, now=now)
    report = Report(
        kind="weekly",
        period_start=data.start,
        period_end=data.end,
        created_at=data.generated_at,
        summary=data.summary(),
        csv=report_csv(data),
        pdf=report_pdf(data),
    )
    try:
        with session.begin_nested():  # another worker may store the same week meanwhile
            session.add(report)
    except IntegrityError:
        log.info("weekly report for %s was stored concurrently", week_start.date())
        stored = _stored(session, "weekly", week_start)
        assert stored is not None
        return stored
    log.info(
        "stored weekly report for %s (%d breakdowns)", week_start.date(), data.total.breakdowns
    )
    return report


def refresh_weekly_reports(*, session: Session, now: datetime | None = None) -> int:
    """Rebuild the stored weekly reports whose week's numbers have changed since they were
    built (compared by their CSV, which holds every number); returns how many."""
    now = as_utc(now or utcnow())
    rebuilt = 0
    for report in session.scalars(select(Report).where(Report.kind == "weekly")):
        data = build_report(
            session=session, start=report.period_start, end=report.period_end, now=now
        )
        fresh = report_csv(data)
        if fresh == bytes(report.csv):
            continue
        report.csv, report.pdf, report.summary = fresh, report_pdf(data), data.summary()
        report.created_at = data.generated_at
        rebuilt += 1
        log.info("rebuilt the weekly report for %s: its data changed", report.period_start.date())
    return rebuilt


def _stored(session: Session, kind: str, period_start: datetime) -> Report | None:
    return session.scalar(
        select(Report).where(Report.kind == kind, Report.period_start == period_start)
    )


def list_reports(*, session: Session) -> list[ReportInfo]:
    """Stored reports, newest period first, without loading their files."""
    stmt = select(
        Report.id,
        Report.kind,
        Report.period_start,
        Report.period_end,
        Report.created_at,
        Report.summary,
        func.length(Report.csv),
        func.length(Report.pdf),
    ).order_by(Report.period_start.desc(), Report.id.desc())
    return [ReportInfo(*row) for row in session.execute(stmt)]


def load_report_file(
    *, session: Session, report_id: int, fmt: Literal["csv", "pdf"]
) -> tuple[str, bytes] | None:
    """A stored report's CSV or PDF with a file name for downloading; None if unknown."""
    if fmt not in ("csv", "pdf"):
        raise ValueError(f"unknown report format {fmt!r}")
    column = Report.csv if fmt == "csv" else Report.pdf
    row = session.execute(
        select(Report.kind, Report.period_start, column).where(Report.id == report_id)
    ).first()
    if row is None:
        return None
    kind, period_start, content = row
    return f"breakdown-report-{kind}-{period_start:%Y-%m-%d}.{fmt}", bytes(content)


def _fmt(x: float | None, digits: int) -> str:
    return "" if x is None else f"{x:.{digits}f}"
