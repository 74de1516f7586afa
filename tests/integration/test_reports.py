"""The breakdown report on both databases: hand-made downtime with answers worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from data.db import Database
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Machine,
    Report,
    Severity,
)
from maintenance.reporting import breakdown_report as reports
from maintenance.reporting.breakdown_report import (
    build_report,
    last_full_week,
    list_reports,
    load_report_file,
    report_csv,
    report_pdf,
    store_weekly_report,
)
from maintenance.reporting.report_data import MachineRow, ReportData, Stats, TypeRow, WeekRow

# Two ISO weeks: 2025-03-03 and 2025-03-10 (both Mondays); 14 days = 336 h.
START, END = datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 17, tzinfo=UTC)
NOW = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)  # the range is over


def t(day: int, hour: float = 0) -> datetime:
    return datetime(2025, 3, day, tzinfo=UTC) + timedelta(hours=hour)


def _seed(db: Database) -> None:
    """Machines and periods below; the expected numbers are worked out in the tests."""
    with db.session() as s:
        press1 = Machine(name="press-01", type="press", created_at=datetime(2025, 1, 1, tzinfo=UTC))
        press2 = Machine(  # retired after the first week: 168 h scheduled
            name="press-02",
            type="press",
            created_at=datetime(2025, 1, 1, tzinfo=UTC),
            retired_at=t(10),
        )
        lathe1 = Machine(name="lathe-01", type="lathe", created_at=t(12))  # 120 h scheduled
        lathe0 = Machine(  # retired before the range: not in the report
            name="lathe-00",
            type="lathe",
            created_at=datetime(2024, 1, 1, tzinfo=UTC),
            retired_at=datetime(2025, 2, 1, tzinfo=UTC),
        )
        s.add_all([press1, press2, lathe1, lathe0])
        s.flush()
        b, p = DowntimeKind.BREAKDOWN, DowntimeKind.PLANNED
        periods = [
            (press1, b, t(2, 20), t(3, 2)),  # straddles the start: 2 h, not counted
            (press1, b, t(4, 10), t(4, 14)),  # week 1, 4 h
            (press1, p, t(5, 6), t(5, 10)),  # planned, 4 h
            (press1, b, t(11, 8), t(11, 9.5)),  # week 2, 1.5 h
            (press1, b, t(16, 22), t(17, 3)),  # week 2, 2 h in range, repaired in 5 h
            (press1, b, t(17, 5), t(17, 6)),  # after the range
            (press2, b, t(6), t(6, 6)),  # week 1, 6 h
            (lathe1, b, t(16, 18), None),  # week 2, still down: 6 h up to the end
        ]
        s.add_all(
            Downtime(machine_id=m.id, kind=k, started_at=a, ended_at=e) for m, k, a, e in periods
        )
        rule, anomaly, prediction = AlarmSource.RULE, AlarmSource.ANOMALY, AlarmSource.PREDICTION
        warn, crit = Severity.WARNING, Severity.CRITICAL
        alarms = [
            (rule, warn, t(4, 9), False),
            (rule, warn, t(5, 7), True),  # raised during the planned stop: silenced
            (rule, crit, t(11, 7), False),
            (anomaly, warn, t(9, 12), False),
            (prediction, crit, t(16, 12), True),
            (rule, warn, t(2, 12), False),  # before the range
            (rule, crit, t(17, 0), False),  # at the end: excluded
        ]
        s.add_all(
            Alarm(
                machine_id=press1.id,
                code="X",
                severity=sev,
                source=src,
                message="m",
                raised_at=at,
                last_seen_at=at,
                silenced=sil,
            )
            for src, sev, at, sil in alarms
        )


def _report(db: Database, now: datetime = NOW) -> ReportData:
    _seed(db)
    with db.session() as s:
        return build_report(session=s, start=START, end=END, now=now)


def test_counts_per_week_machine_and_type(db: Database):
    r = _report(db)
    assert [(w.week_start.isoformat(), w.label, w.breakdowns) for w in r.weeks] == [
        ("2025-03-03", "2025-W10", 2),
        ("2025-03-10", "2025-W11", 3),
    ]
    assert r.total.breakdowns == 5
    assert [(m.name, m.type, m.stats.breakdowns) for m in r.machines] == [
        ("lathe-01", "lathe", 1),
        ("press-01", "press", 3),
        ("press-02", "press", 1),
    ]
    assert [(t.type, t.machines, t.stats.breakdowns) for t in r.types] == [
        ("lathe", 1, 1),
        ("press", 2, 4),
    ]


def test_hours_mtbf_mttr_and_availability(db: Database):
    r = _report(db)
    m = {row.name: row.stats for row in r.machines}
    # press-01: down 2 + 4 + 1.5 + 2 = 9.5 h broken, 4 h planned, 336 h scheduled;
    # operating 336 - 13.5 = 322.5 h over 3 breakdowns; repairs 4 + 1.5 + 5 = 10.5 h over 3
    p1 = m["press-01"]
    assert (p1.breakdown_h, p1.planned_h, p1.scheduled_h) == (9.5, 4.0, 336.0)
    assert p1.mtbf_h == pytest.approx(107.5) and p1.mttr_h == pytest.approx(3.5)
    assert p1.availability == pytest.approx(1 - 9.5 / 336)
    # press-02: 6 h broken of 168 h; operating 162 h / 1; repair 6 h
    p2 = m["press-02"]
    assert (p2.breakdown_h, p2.scheduled_h, p2.mtbf_h, p2.mttr_h) == (6.0, 168.0, 162.0, 6.0)
    assert p2.availability == pytest.approx(1 - 6 / 168)
    # lathe-01: still down since 16th 18:00, counted to the end (6 h) of its 120 h; not repaired
    lathe = m["lathe-01"]
    assert (lathe.breakdown_h, lathe.scheduled_h, lathe.mtbf_h, lathe.mttr_h) == (
        6.0,
        120.0,
        114.0,
        None,
    )
    assert lathe.availability == pytest.approx(0.95)
    # presses: 15.5 h broken of 504 h; operating 504 - 19.5 = 484.5 h / 4; repairs 16.5 h / 4
    press = {t.type: t.stats for t in r.types}["press"]
    assert (press.breakdown_h, press.mtbf_h, press.mttr_h) == (15.5, 484.5 / 4, 4.125)
    # fleet: 21.5 h broken + 4 h planned of 624 h; operating 598.5 h / 5; repairs 16.5 h / 4
    total = r.total
    assert (total.breakdown_h, total.planned_h, total.scheduled_h) == (21.5, 4.0, 624.0)
    assert total.mtbf_h == pytest.approx(119.7) and total.mttr_h == pytest.approx(4.125)
    assert total.availability == pytest.approx(1 - 21.5 / 624)


def test_alarms_by_source_and_severity_count_silenced_ones_too(db: Database):
    r = _report(db)
    assert [(a.source, a.severity, a.alarms, a.silenced) for a in r.alarms] == [
        ("anomaly", "WARNING", 1, 0),
        ("prediction", "CRITICAL", 1, 1),
        ("rule", "CRITICAL", 1, 0),
        ("rule", "WARNING", 2, 1),
    ]
    assert r.summary()["alarms"] == 5 and r.summary()["alarms_silenced"] == 2


def test_a_range_not_over_yet_counts_only_the_hours_passed(db: Database):
    r = _report(db, now=t(16, 20))
    lathe = {row.name: row.stats for row in r.machines}["lathe-01"]
    # created on the 12th, still down since the 16th 18:00: 2 h of 4 days 20 h = 116 h
    assert (lathe.breakdown_h, lathe.scheduled_h) == (2.0, 116.0)


def test_csv_is_one_tidy_table(db: Database):
    rows = list(csv.DictReader(io.StringIO(report_csv(_report(db)).decode("utf-8"))))
    assert list(rows[0]) == reports.CSV_COLUMNS
    [summary] = [r for r in rows if r["section"] == "summary"]
    assert summary["key"] == "2025-03-03T00:00:00+00:00/2025-03-17T00:00:00+00:00"
    assert (summary["breakdowns"], summary["breakdown_h"], summary["mtbf_h"]) == (
        "5",
        "21.500",
        "119.700",
    )
    assert (summary["alarms"], summary["silenced"]) == ("5", "2")
    assert [(r["key"], r["breakdowns"]) for r in rows if r["section"] == "week"] == [
        ("2025-03-03", "2"),
        ("2025-03-10", "3"),
    ]
    machines = {r["key"]: r for r in rows if r["section"] == "machine"}
    assert machines["lathe-01"]["machine_type"] == "lathe"
    assert (machines["lathe-01"]["availability"], machines["lathe-01"]["mttr_h"]) == ("0.9500", "")
    assert machines["press-01"]["mttr_h"] == "3.500"
    assert {r["key"]: r["breakdowns"] for r in rows if r["section"] == "type"} == {
        "lathe": "1",
        "press": "4",
    }
    alarms = [
        (r["key"], r["severity"], r["alarms"], r["silenced"])
        for r in rows
        if r["section"] == "alarms"
    ]
    assert ("rule", "WARNING", "2", "1") in alarms and len(alarms) == 4


def test_pdf_has_title_range_kpis_and_machines(db: Database):
    pdf = PdfReader(io.BytesIO(report_pdf(_report(db))))
    assert 1 <= len(pdf.pages) <= 2
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for expected in (
        "Breakdown report",
        "2025-03-03 to 2025-03-16",
        "press-01",
        "lathe-01",
        "5 d",  # MTBF 119.7 h, said in days
        "Availability",
    ):
        assert expected in text, expected


def test_pdf_of_a_large_fleet_stays_within_two_pages():
    stats = Stats(breakdowns=2, breakdown_h=3.0, planned_h=1.0, scheduled_h=168.0, down_h=4.0)
    machines = tuple(MachineRow(f"m-{i:03d}", "press", stats) for i in range(300))
    report = ReportData(
        start=START,
        end=START + timedelta(days=7),
        generated_at=NOW,
        total=stats,
        weeks=(WeekRow(START.date(), 600),),
        machines=machines,
        types=(TypeRow("press", 300, stats),),
        alarms=(),
    )
    pdf = PdfReader(io.BytesIO(report_pdf(report)))
    assert 1 <= len(pdf.pages) <= 2
    assert "all are in the CSV" in pdf.pages[0].extract_text()


def test_weekly_report_is_stored_once_and_listed_without_its_files(db: Database):
    _seed(db)
    with db.session() as s:
        first = store_weekly_report(session=s, week_start=START, now=NOW)
        first_id = first.id
    with db.session() as s:
        again = store_weekly_report(session=s, week_start=START, now=NOW)
        assert again.id == first_id
        assert s.scalar(select(func.count()).select_from(Report)) == 1
    with db.session() as s:
        second = store_weekly_report(session=s, week_start=START + timedelta(days=7), now=NOW)
        second_id = second.id
    with db.session() as s:
        listed = list_reports(session=s)
        assert [r.id for r in listed] == [second_id, first_id]  # newest first
        info = listed[1]
        assert (info.kind, info.period_start, info.period_end) == ("weekly", START, t(10))
        assert info.summary["breakdowns"] == 2
        name, data = load_report_file(session=s, report_id=first_id, fmt="csv")
        assert name == "breakdown-report-weekly-2025-03-03.csv"
        assert len(data) == info.csv_bytes and b"press-02" in data
        name, data = load_report_file(session=s, report_id=first_id, fmt="pdf")
        assert name.endswith(".pdf") and len(data) == info.pdf_bytes
        assert data.startswith(b"%PDF")
        assert load_report_file(session=s, report_id=999, fmt="pdf") is None


def test_a_week_stored_concurrently_is_returned_not_duplicated(db: Database, monkeypatch):
    _seed(db)
    with db.session() as s:
        stored_id = store_weekly_report(session=s, week_start=START, now=NOW).id
    real, misses = reports._stored, [None]

    def stored_after_a_miss(*args):  # as if another worker committed just after our look
        return misses.pop() if misses else real(*args)

    monkeypatch.setattr(reports, "_stored", stored_after_a_miss)
    with db.session() as s:
        assert store_weekly_report(session=s, week_start=START, now=NOW).id == stored_id
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1


def test_weekly_report_refuses_unfinished_or_misaligned_weeks(db: Database):
    with db.session() as s, pytest.raises(ValueError, match="Monday"):
        store_weekly_report(session=s, week_start=t(4), now=NOW)
    with db.session() as s, pytest.raises(ValueError, match="not ended"):
        store_weekly_report(session=s, week_start=t(17), now=NOW)


def test_last_full_week_ends_on_this_monday():
    assert last_full_week(t(19, 15)) == (t(10), t(17))  # a Wednesday
    assert last_full_week(t(17)) == (t(10), t(17))  # Monday 00:00 exactly
    with pytest.raises(ValueError):
        last_full_week(datetime(2025, 3, 19))  # naive
