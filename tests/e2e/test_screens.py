"""In Chromium, screens people can trust (issue 14): a stopped machine reads Stopped on its
tile and page and is named in the red banner; the banner's numbers follow the latest
prediction; reports say minutes-long breakdowns in minutes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from browser import eventually, login, pattern, readings, shot, texts, visit
from factories import WebApp
from services import free_port
from sqlalchemy import delete, select

from data.models import Alarm, AlarmSource, Downtime, DowntimeKind, Machine, Prediction, Severity
from maintenance.alarming.prediction_alarms import apply_predictions, store_predictions
from ml.alarm_policy import PredictionPolicy
from ml.scoring import MachineScore
from web.views.fleet import fleet_badge, fleet_risk
from web.views.machine import MACHINE_RANGE
from web.views.reports import REPORT_ALARMS, REPORT_PRESET
from web.views.shell import alarm_ack

pytestmark = pytest.mark.e2e
HEALTHY = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}


def _machine(web: WebApp, name: str) -> int:
    with web.db.session() as s:
        return s.scalar(select(Machine.id).where(Machine.name == name))


def _start(dash_duo, web: WebApp) -> None:
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "manager")


def _alarm(web: WebApp, machine_id: int, code: str, source: AlarmSource, value: float) -> int:
    """An active critical alarm without a ticket (the shared app's tickets stay as they are)."""
    now = datetime.now(UTC)
    with web.db.session() as s:
        alarm = Alarm(
            machine_id=machine_id,
            code=code,
            severity=Severity.CRITICAL,
            source=source,
            message=f"{code} raised for a browser test",
            value=value,
            raised_at=now - timedelta(minutes=3),
            last_seen_at=now,
        )
        s.add(alarm)
        s.flush()
        return alarm.id


def _predict(web: WebApp, machine_id: int, probability: float, rul_h: float) -> None:
    with web.db.session() as s:
        s.add(Prediction(machine_id=machine_id, failure_probability=probability, rul_hours=rul_h))


def _scoring(web: WebApp, machine_id: int, probability: float, rul_h: float) -> None:
    """One scoring tick as the worker runs it: the prediction stored, then applied to alarms."""
    score = MachineScore(machine_id, 0.2, False, probability, rul_h, ["vibration"])
    now = datetime.now(UTC)
    with web.db.session() as s:
        store_predictions(session=s, scores=[score], now=now, versions={})
        apply_predictions(session=s, scores=[score], now=now, policy=PredictionPolicy())


def _tidy(web: WebApp, machine_id: int, *alarm_ids: int) -> None:
    """Leave the shared app's fleet running and quiet for later tests."""
    readings(web, "pump-01", {**HEALTHY, "rpm": 2950.0}, seconds=3)
    with web.db.session() as s:
        for alarm_id in alarm_ids:
            s.get(Alarm, alarm_id).cleared_at = datetime.now(UTC)
        s.execute(delete(Prediction).where(Prediction.machine_id == machine_id))


def test_a_stopped_machine_reads_stopped_and_is_named_in_the_banner(dash_duo, web: WebApp):
    pump = _machine(web, "pump-01")
    readings(
        web,
        "pump-01",
        {**HEALTHY, "rpm": 2950.0},
        seconds=60,
        end=datetime.now(UTC).timestamp() - 10,
    )
    _predict(web, pump, 0.03, 22.0)  # from before the stop: a still machine is not scored
    readings(web, "pump-01", {**HEALTHY, "rpm": 0.0}, seconds=5)
    stop = _alarm(web, pump, "RPM_LOW", AlarmSource.RULE, 0.0)
    try:
        _start(dash_duo, web)
        dash_duo.wait_for_text_to_equal(pattern(fleet_badge(pump)), "Stopped", timeout=15)
        risk = texts(dash_duo, pattern(fleet_risk(pump)))[0]  # read in one go: tiles refresh
        assert risk.startswith("Stopped for") and "%" not in risk
        assert texts(dash_duo, ".machine-link")[0] == "pump-01"  # stopped machines first
        banner = f"#red-warning-{stop}"
        dash_duo.wait_for_contains_text(banner, "pump-01 has stopped", timeout=10)
        # raised 3 min before the test began: whole minutes since then, however slow the run
        still = re.search(r"Standing still for (\d+) min", texts(dash_duo, banner)[0])
        assert still and 3 <= int(still.group(1)) <= 10
        eventually(lambda: texts(dash_duo, "#kpi-stopped") == ["1"])
        shot(dash_duo, "fleet-stopped")

        visit(dash_duo, "/machine/pump-01")
        dash_duo.wait_for_contains_text("#machine-state-line", "Stopped", timeout=15)
        assert "%" not in dash_duo.find_element("#machine-state-line").text
        shot(dash_duo, "machine-stopped")
        dash_duo.find_element(pattern(alarm_ack(stop))).click()
        eventually(lambda: not dash_duo.find_elements(banner))
    finally:
        _tidy(web, pump, stop)


def test_the_banner_follows_the_latest_prediction(dash_duo, web: WebApp):
    pump = _machine(web, "pump-01")
    readings(web, "pump-01", {**HEALTHY, "rpm": 2950.0}, seconds=30)
    alarm = _alarm(web, pump, "PRED_FAILURE", AlarmSource.PREDICTION, 0.95)
    _scoring(web, pump, 0.95, 4.2 / 60)  # the worker stores wall-clock hours
    try:
        _start(dash_duo, web)
        banner = f"#red-warning-{alarm}"
        dash_duo.wait_for_contains_text(banner, "Failure probability 95%", timeout=15)
        assert "remaining life ≈ 4 min" in dash_duo.find_element(banner).text
        _scoring(web, pump, 0.99, 1.3 / 60)  # the next scoring: the banner follows it
        dash_duo.wait_for_contains_text(banner, "Failure probability 99%", timeout=10)
        assert "remaining life ≈ 1 min" in dash_duo.find_element(banner).text
        shot(dash_duo, "red-banner-latest")
    finally:
        _tidy(web, pump, alarm)


def test_a_report_says_minutes_long_breakdowns_in_minutes(dash_duo, web: WebApp):
    motor = _machine(web, "motor-01")
    # hours ago, not "early today": just after midnight that would be in the future
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    with web.db.session() as s:
        s.execute(delete(Downtime))
        for hour in (0, 0.5):  # two stops of 40 s each
            began = earlier + timedelta(hours=hour)
            s.add(
                Downtime(
                    machine_id=motor,
                    kind=DowntimeKind.BREAKDOWN,
                    started_at=began,
                    ended_at=began + timedelta(seconds=40),
                    source="detected",
                    note="rpm fell to zero",
                )
            )
    try:
        _start(dash_duo, web)
        visit(dash_duo, "/reports")  # the last four weeks, today included
        dash_duo.wait_for_text_to_equal("#report-breakdowns", "2", timeout=15)
        dash_duo.wait_for_text_to_equal("#report-downtime", "1 min")
        assert dash_duo.find_element("#report-mttr").text == "40 s"
        shot(dash_duo, "reports-minutes")
        visit(dash_duo, "/machine/motor-01")
        dash_duo.find_element(
            f"label[for='_dbcprivate_radioitems_{MACHINE_RANGE}_input_1d']"
        ).click()
        dash_duo.wait_for_contains_text(
            "#machine-events-list", "40 s: rpm fell to zero", timeout=15
        )
        shot(dash_duo, "machine-timeline-minutes")
    finally:
        with web.db.session() as s:
            s.execute(delete(Downtime))


def test_a_range_without_data_says_so(dash_duo, web: WebApp):
    _start(dash_duo, web)  # the shared app's machines were added today: last week is empty
    visit(dash_duo, "/reports")
    dash_duo.find_element(
        f"label[for='_dbcprivate_radioitems_{REPORT_PRESET}_input_last-week']"
    ).click()
    dash_duo.wait_for_contains_text("#report-headline-text", "Last week (", timeout=15)
    dash_duo.wait_for_contains_text("#report-headline-text", "no data in this range")
    eventually(lambda: "No alarms in this range" in dash_duo.find_element("#" + REPORT_ALARMS).text)
    shot(dash_duo, "reports-empty")
