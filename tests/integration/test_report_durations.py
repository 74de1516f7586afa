"""Durations said as people say them: minutes-long breakdowns read in minutes on the
reports page, in its PDF, on the machine timeline and in the work record."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import demo_database
from pypdf import PdfReader
from sqlalchemy import select

from data.db import Database
from data.machine_series import machine_events
from data.models import Downtime, DowntimeKind, Machine
from maintenance.reporting.breakdown_report import build_report, report_pdf
from web.views.machine_timeline import timeline
from web.views.reports import kpis, machines_figure

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    _, database = demo_database(tmp_path)
    with database.session() as s:
        for hours in (9, 15):  # two breakdowns of 40 s each
            began = START + timedelta(hours=hours)
            s.add(
                Downtime(
                    machine_id=1,
                    kind=DowntimeKind.BREAKDOWN,
                    started_at=began,
                    ended_at=began + timedelta(seconds=40),
                    source="detected",
                    note="rpm fell to zero",
                )
            )
    yield database
    database.dispose()


def _report(db: Database) -> object:
    with db.session() as s:
        return build_report(session=s, start=START, end=START + timedelta(days=7))


def test_the_reports_page_says_minutes_long_breakdowns_in_minutes_and_seconds(db):
    shown = str(kpis(_report(db)))
    assert "'1 min'" in shown  # 80 s of downtime, not "0.0 h"
    assert "'40 s'" in shown  # the mean time to repair
    figure = machines_figure(_report(db))
    assert figure.layout.xaxis.title.text == "minutes"
    assert figure.data[0].x[-1] == pytest.approx(80 / 60)


def test_the_pdf_says_them_in_minutes_too(db):
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report_pdf(_report(db)))).pages)
    assert "1 min" in text and "40 s" in text and "0.0" not in text
    assert "Downtime by machine (minutes)" not in text  # a chart: drawn, not text


def test_the_timeline_says_how_long_a_stop_lasted(db):
    with db.session() as s:
        events = machine_events(session=s, machine_id=1, start=START, end=START + timedelta(days=1))
    assert "40 s: rpm fell to zero" in str(timeline(events))


def _availability_class(db: Database, down_h: float) -> str:
    """The Availability card's text colour for the week when every machine, in service
    since before it, broke down for ``down_h`` hours more."""
    with db.session() as s:
        for machine in s.scalars(select(Machine)):
            machine.created_at = START - timedelta(days=1)
            began = START + timedelta(days=2)
            s.add(
                Downtime(
                    machine_id=machine.id,
                    kind=DowntimeKind.BREAKDOWN,
                    started_at=began,
                    ended_at=began + timedelta(hours=down_h),
                    source="detected",
                    note="rpm fell to zero",
                )
            )
    row = kpis(_report(db))
    [card] = [c for c in row.children if "report-availability" in str(c)]
    return card.children.children.children[1].className


@pytest.mark.parametrize(
    ("down_h", "tone"),
    [(0.0, "text-success"), (12.0, "text-warning-emphasis"), (48.0, "text-danger")],
)
def test_the_availability_is_green_only_when_it_is_good(db, down_h, tone):
    # a week: 12 h down is 93 % available (amber), 48 h is 71 % (red)
    assert tone in _availability_class(db, down_h)
