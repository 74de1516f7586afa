"""In Chromium, the factory manager's pages: fleet overview, red warning, machine history,
alarms, breakdown reports with their CSV and PDF downloads."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from browser import (
    browser_session,
    click,
    eventually,
    graph_data,
    login,
    pattern,
    readings,
    shot,
    texts,
    visit,
)
from factories import WebApp
from pypdf import PdfReader
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import delete, func, select

from data.models import (
    Alarm,
    AlarmSilence,
    AlarmSource,
    AuditLog,
    Downtime,
    DowntimeKind,
    Machine,
    Severity,
    Ticket,
    User,
)
from maintenance.alarming.prediction_alarms import apply_predictions
from maintenance.alarming.raise_clear import raise_alarm
from maintenance.reporting.breakdown_report import last_full_week
from ml.alarm_policy import PredictionPolicy
from ml.scoring import MachineScore
from simulator.fleet_physics import MACHINE_TYPES
from web.views.alarms import (
    ALARMS_ACK,
    ALARMS_GRID,
    SILENCE_MACHINE,
    SILENCE_REASON,
    SILENCE_SUBMIT,
    silence_error,
)
from web.views.audit import AUDIT_GRID
from web.views.fleet import FLEET_TYPE
from web.views.machine import MACHINE_GRAPH, MACHINE_POINTS, MACHINE_RANGE, MAX_POINTS
from web.views.reports import REPORT_CSV, REPORT_PDF, REPORT_PRESET
from web.views.shell import alarm_ack
from web.views.tickets import TICKETS_TABLE

pytestmark = pytest.mark.e2e
HEALTHY = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}


def _machines(web: WebApp) -> dict[str, Machine]:
    with web.db.session() as s:
        return {m.name: m for m in s.scalars(select(Machine).where(Machine.retired_at.is_(None)))}


def _start(dash_duo, web: WebApp, user: str = "manager") -> None:
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, user)


def test_overview_shows_every_machine_sorted_by_risk_and_filters_by_type(dash_duo, web: WebApp):
    machines = _machines(web)
    for name, m in machines.items():  # each at its type's speed: slower is a stop
        readings(web, name, {**HEALTHY, "rpm": MACHINE_TYPES[m.type].rpm}, seconds=90)
    _start(dash_duo, web)
    dash_duo.wait_for_element(".machine-card", timeout=15)
    eventually(lambda: set(texts(dash_duo, ".machine-link")) == set(machines))
    # the tiles refresh live: read the counts in one go, each time, until they add up
    counts = ",".join(f"#kpi-{k}" for k in ("healthy", "warning", "critical", "stopped"))
    eventually(lambda: sum(int(t) for t in texts(dash_duo, counts)) == len(machines))
    eventually(lambda: texts(dash_duo, "#kpi-availability")[0].endswith("%"))
    # the bare sparklines are explained once: span, sensors with their units, limits
    dash_duo.wait_for_contains_text(
        "#fleet-spark-legend", "the last 15 minutes of temperature (°C) and vibration (mm/s)"
    )
    # a machine's name never breaks inside a tile ("compressor-/01")
    heights = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.machine-link'))"
        ".map(e => e.getClientRects().length);"
    )
    assert heights and set(heights) == {1}
    shot(dash_duo, "fleet-overview")

    pumps = {n for n, m in machines.items() if m.type == "pump"}
    Select(dash_duo.find_element(f"#{FLEET_TYPE}")).select_by_value("pump")
    eventually(lambda: set(texts(dash_duo, ".machine-link")) == pumps)
    # a tile links to its machine page
    links = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.machine-link'))"
        ".map(e => [e.href, e.textContent]);"
    )
    assert links and all(href.endswith(f"/machine/{name}") for href, name in links)


def test_red_banner_appears_over_the_threshold_and_goes_when_acknowledged(dash_duo, web: WebApp):
    machine = _machines(web)["pump-01"]
    _start(dash_duo, web)
    dash_duo.wait_for_element(".machine-card", timeout=15)
    assert not dash_duo.find_elements(".red-warning")
    with web.db.session() as s:  # one scoring tick pushes pump-01 over the threshold
        score = MachineScore(machine.id, 0.4, False, 0.93, 3.0, ["vibration"])
        apply_predictions(
            session=s, scores=[score], now=datetime.now(UTC), policy=PredictionPolicy()
        )
        alarm_id = s.scalar(
            select(Alarm.id).where(Alarm.machine_id == machine.id, Alarm.cleared_at.is_(None))
        )
    assert alarm_id is not None
    banner = f"#red-warning-{alarm_id}"
    dash_duo.wait_for_contains_text(banner, "pump-01 is predicted to fail", timeout=10)
    link = dash_duo.find_element(f"{banner} a[href='/machine/pump-01']")
    shot(dash_duo, "red-banner")
    # the banner is on every page, the machine page included
    link.click()
    dash_duo.wait_for_element("#machine-title", timeout=10)
    dash_duo.wait_for_contains_text(banner, "pump-01 is predicted to fail", timeout=10)

    dash_duo.find_element(pattern(alarm_ack(alarm_id))).click()
    eventually(lambda: not dash_duo.find_elements(banner))
    with web.db.session() as s:
        alarm = s.get(Alarm, alarm_id)
        manager = s.scalar(select(User.id).where(User.username == "manager"))
        assert alarm.acknowledged_by == manager and alarm.cleared_at is None
        audit = s.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.action == "alarm.acknowledge", AuditLog.entity_id == str(alarm_id)
            )
        )
        assert audit == 1
        alarm.cleared_at = datetime.now(UTC)  # leave the shared app's fleet healthy


def test_machine_page_range_selector_changes_the_data_and_keeps_spikes(dash_duo, web: WebApp):
    now = time.time()
    # two days at one reading a minute, the last ten minutes at one a second, and one
    # vibration spike a day ago that must survive the reduction
    readings(web, "compressor-01", HEALTHY, seconds=2 * 86400, end=now - 600, step=60)
    readings(web, "compressor-01", HEALTHY, seconds=600, end=now)
    readings(web, "compressor-01", {"vibration": 25.0}, seconds=1, end=now - 86400 + 7)

    _start(dash_duo, web)
    visit(dash_duo, "/machine/compressor-01")
    dash_duo.wait_for_contains_text(f"#{MACHINE_POINTS}", "1 hour", timeout=15)
    hour = _drawn(dash_duo, lambda t: _oldest(t, "vibration") is not None)
    assert _oldest(hour, "vibration") > datetime.now(UTC) - timedelta(hours=1, minutes=1)
    assert max(_trace(hour, "vibration max")["y"]) < 5  # the spike is a day old
    shot(dash_duo, "machine-1h")

    dash_duo.find_element(f"label[for='_dbcprivate_radioitems_{MACHINE_RANGE}_input_7d']").click()
    dash_duo.wait_for_contains_text(f"#{MACHINE_POINTS}", "7 days", timeout=15)
    two_days_ago = datetime.now(UTC) - timedelta(days=1, hours=12)
    week = _drawn(dash_duo, lambda t: (_oldest(t, "vibration") or two_days_ago) < two_days_ago)
    assert all(len(t["x"]) <= MAX_POINTS + 1 for t in week)  # reduced in the database
    vib_max = _trace(week, "vibration max")
    assert max(vib_max["y"]) == pytest.approx(25.0)  # the spike survived as a bucket max
    assert max(_trace(week, "vibration")["y"]) < 25.0  # while the mean smooths it
    # 7 days in 600 buckets asks 1,008 s; ten-minute rollups serve 1,200 s: said as such
    assert "(20 min buckets" in dash_duo.find_element(f"#{MACHINE_POINTS}").text
    shot(dash_duo, "machine-7d")


def _trace(traces: list[dict], name: str) -> dict:
    return next(t for t in traces if t["name"] == name)


def _oldest(traces: list[dict] | None, name: str) -> datetime | None:
    xs = [x for t in traces or [] if t["name"] == name for x in t["x"]]
    return min(datetime.fromisoformat(x) for x in xs).replace(tzinfo=UTC) if xs else None


def _drawn(dash_duo, ready) -> list[dict]:
    """The machine graph's traces once ``ready(traces)`` holds (Plotly draws a new figure
    a moment after Dash delivers it)."""
    eventually(lambda: ready(graph_data(dash_duo, MACHINE_GRAPH)))
    return graph_data(dash_duo, MACHINE_GRAPH)


def test_alarm_acknowledged_in_the_grid_and_a_maintenance_window_silences(dash_duo, web: WebApp):
    machine = _machines(web)["motor-01"]
    with web.db.session() as s:
        alarm, _ = raise_alarm(
            session=s,
            machine_id=machine.id,
            code="TEMP_HIGH",
            severity=Severity.WARNING,
            source=AlarmSource.RULE,
            message="motor-01: temperature 72.0 °C above warning limit 70",
            value=72.0,
            now=datetime.now(UTC),
        )
        alarm_id, ticket_of = alarm.id, alarm.ticket_id  # opened, or joined the open one
    assert ticket_of is not None
    _start(dash_duo, web)
    visit(dash_duo, "/alarms")
    row = f"div[row-id='{alarm_id}']"
    link = dash_duo.wait_for_element(f"{row} [col-id='ticket'] a", timeout=15)
    assert link.text == f"#{ticket_of}" and link.get_attribute("href").endswith(
        f"/ticket/{ticket_of}"
    )
    dash_duo.find_element(f"{row} [col-id='code']").click()
    dash_duo.find_element(f"#{ALARMS_ACK}").click()
    dash_duo.wait_for_contains_text("#alarms-note", "Acknowledged 1 alarm", timeout=10)
    state = f"{row} [col-id='state']"  # who acknowledged it, in its state
    dash_duo.wait_for_text_to_equal(state, "acknowledged by manager", timeout=10)
    with web.db.session() as s:
        assert s.get(Alarm, alarm_id).acknowledged_at is not None

    # a window needs a reason: the message sits next to the field, nothing is stored
    Select(dash_duo.find_element(f"#{SILENCE_MACHINE}")).select_by_visible_text("motor-01")
    click(dash_duo, f"#{SILENCE_SUBMIT}")
    dash_duo.wait_for_contains_text(f"#{silence_error('reason')}", "Say why", timeout=10)
    assert "is-invalid" in dash_duo.find_element(f"#{SILENCE_REASON}").get_attribute("class")
    shot(dash_duo, "alarms-silence-error")
    dash_duo.find_element(f"#{SILENCE_REASON}").send_keys("planned bearing replacement")
    click(dash_duo, f"#{SILENCE_SUBMIT}")
    dash_duo.wait_for_contains_text(".silence-window", "motor-01", timeout=10)
    shot(dash_duo, "alarms")

    with web.db.session() as s:  # during the window an alarm is recorded, silenced, no ticket
        tickets_before = s.scalar(select(func.count(Ticket.id)))
        silenced, ticket_id = raise_alarm(
            session=s,
            machine_id=machine.id,
            code="VIB_HIGH",
            severity=Severity.CRITICAL,
            source=AlarmSource.RULE,
            message="motor-01: vibration 6.0 mm/s above critical limit 5.4",
            value=6.0,
            now=datetime.now(UTC),
        )
        assert silenced.silenced and ticket_id is None
        assert s.scalar(select(func.count(Ticket.id))) == tickets_before
        s.execute(delete(AlarmSilence))  # leave the shared app as it was


def test_report_counts_the_seeded_week_and_both_downloads_are_valid(dash_duo, web: WebApp):
    machines = _machines(web)
    week_start, week_end = last_full_week(datetime.now(UTC))
    with web.db.session() as s:
        s.execute(delete(Downtime))
        for name, day, hours in (("motor-01", 0, 2), ("motor-01", 3, 1), ("pump-01", 5, 4)):
            start = week_start + timedelta(days=day, hours=8)
            s.add(
                Downtime(
                    machine_id=machines[name].id,
                    kind=DowntimeKind.BREAKDOWN,
                    started_at=start,
                    ended_at=start + timedelta(hours=hours),
                    source="manual",
                )
            )
        before = week_start - timedelta(days=2)  # the week before: not last week's
        s.add(
            Downtime(
                machine_id=machines["pump-01"].id,
                kind=DowntimeKind.BREAKDOWN,
                started_at=before,
                ended_at=before + timedelta(hours=1),
                source="manual",
            )
        )
    _start(dash_duo, web)
    visit(dash_duo, "/reports")
    dash_duo.find_element(
        f"label[for='_dbcprivate_radioitems_{REPORT_PRESET}_input_last-week']"
    ).click()
    dash_duo.wait_for_text_to_equal("#report-breakdowns", "3", timeout=15)
    headline = "#report-headline-text"  # of the range picked: last week
    dash_duo.wait_for_contains_text(headline, "Last week (")
    dash_duo.wait_for_contains_text(headline, "2 machines broke down, 3 breakdowns")
    dash_duo.wait_for_text_to_equal("#report-downtime", "7 h")
    shot(dash_duo, "reports")

    http = browser_session(dash_duo)
    csv_url = dash_duo.find_element(f"#{REPORT_CSV}").get_attribute("href")
    got = http.get(csv_url, timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8"))))
    summary = next(r for r in rows if r["section"] == "summary")
    assert int(summary["breakdowns"]) == 3
    per_machine = {r["key"]: int(r["breakdowns"]) for r in rows if r["section"] == "machine"}
    assert per_machine["motor-01"] == 2 and per_machine["pump-01"] == 1

    pdf_url = dash_duo.find_element(f"#{REPORT_PDF}").get_attribute("href")
    got = http.get(pdf_url, timeout=60)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(got.content))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Breakdown report" in text and "motor-01" in text
    assert f"{week_start:%Y-%m-%d}" in text

    # the same download without a login is sent to the login page
    anonymous = requests.get(csv_url, allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    with web.db.session() as s:
        s.execute(delete(Downtime))


def test_every_page_runs_under_the_content_security_policy(dash_duo, web: WebApp):
    _start(dash_duo, web)
    dash_duo.get_logs()  # drop what the login produced
    for path, ready in (
        ("/", ".machine-card"),
        ("/machine/motor-01", "#machine-title"),
        ("/alarms", f"#{ALARMS_GRID} .ag-root"),
        ("/reports", "#report-breakdowns"),
        ("/tickets", f"#{TICKETS_TABLE} table, #tickets-empty"),
        ("/audit", f"#{AUDIT_GRID} .ag-row"),
    ):
        visit(dash_duo, path)
        dash_duo.wait_for_element(ready, timeout=15)
        time.sleep(1)  # let the graphs draw
        blocked = [
            e["message"] for e in dash_duo.get_logs() or [] if "Security Policy" in e["message"]
        ]
        assert blocked == [], f"{path}: {blocked}"
    header = requests.get(dash_duo.server.url + "/login", timeout=30).headers
    assert "script-src 'self'" in header["Content-Security-Policy"]
    assert header["X-Frame-Options"] == "DENY"
