"""Reports that agree with themselves: a stored weekly report follows a backfill of its week,
the headline speaks of the range picked, and an empty range says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import demo_database
from sqlalchemy import select

from config import Settings
from data.db import Database
from data.models import Report
from maintenance.reporting.breakdown_report import build_report, last_full_week, store_weekly_report
from web.views.reports import alarms_figure, headline, machines_figure, types_figure, weeks_figure
from worker import Worker
from worker.backfill import backfill
from worker.report_jobs import refresh_reports


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    settings, database = demo_database(tmp_path)
    yield settings, database
    database.dispose()


def test_a_stored_weekly_report_is_rebuilt_after_a_backfill_of_its_week(demo):
    settings, db = demo
    week_start, week_end = last_full_week(datetime.now(UTC))
    with db.session() as s:  # built at first start, before any history
        assert store_weekly_report(session=s, week_start=week_start).summary["breakdowns"] == 0
    backfill(
        db=db,
        machines=3,
        days=7,
        interval_s=120,
        end=week_end,
        mean_days_between_failures=1.0,
        progress=False,
    )
    worker = Worker(settings, db)  # not started: the job body is called directly
    assert refresh_reports(worker.context) == 1
    with db.session() as s:
        stored = s.scalar(select(Report))
        fresh = build_report(session=s, start=week_start, end=week_end)
    assert fresh.total.breakdowns > 0
    assert stored.summary == fresh.summary()
    assert refresh_reports(worker.context) == 0  # nothing changed since


def test_the_headline_speaks_of_the_range_picked(demo):
    _, db = demo
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with db.session() as s:
        report = build_report(
            session=s, start=start - timedelta(days=2), end=start + timedelta(days=1)
        )
    text = str(headline(report, ""))
    assert f"{start - timedelta(days=2):%d %b %Y} – {start:%d %b %Y}" in text
    assert "Last week" not in text and "broke down so far" in text
    assert "Last 4 weeks (" in str(headline(report, "Last 4 weeks"))


def test_a_range_without_breakdowns_says_so_on_its_weeks(demo):
    _, db = demo
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with db.session() as s:
        report = build_report(session=s, start=start, end=start + timedelta(days=1))
    figure = weeks_figure(report)
    assert [a.text for a in figure.layout.annotations] == ["No breakdowns in this range"]
    assert list(figure.data[0].x) == [w.label for w in report.weeks]
    types = types_figure(report)
    for axis in (figure.layout.yaxis, types.layout.yaxis):  # whole breakdowns, no 0.2 ticks
        assert (axis.tick0, axis.dtick) == (0, 1)
    assert list(types.layout.yaxis2.tickvals) == [0, 0.25, 0.5, 0.75, 1]  # no 110 % tick


def test_an_empty_range_says_so_instead_of_bare_axes(demo):
    _, db = demo
    with db.session() as s:  # years before the fleet existed
        report = build_report(
            session=s, start=datetime(2020, 1, 6, tzinfo=UTC), end=datetime(2020, 1, 13, tzinfo=UTC)
        )
    assert "no data in this range" in str(headline(report))
    for figure, text in (
        (types_figure(report), "No machines in this range"),
        (machines_figure(report), "No downtime in this range"),
        (alarms_figure(report), "No alarms in this range"),
    ):
        assert [a.text for a in figure.layout.annotations] == [text]
        assert figure.layout.xaxis.visible is False
