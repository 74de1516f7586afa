"""In Chromium, an engineer opens the model-health page of a type whose temperature drifted:
the heat map over the checks, the worst features' distributions, the realised quality with
its counts (or "too few"), and the drifted period to pick in the lab; no console errors. A
technician and a viewer find no menu entry and get the no-access page."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from browser import click, eventually, graph_data, login, shot, sign_in_at, visit
from factories import WebApp, add_user
from services import free_port
from sqlalchemy import delete, select

from data.models import AuditLog, DriftResult, Machine, Role, User
from web.views import lab_explore as lab
from web.views import model_health as v
from web.views.shell import NO_ACCESS

pytestmark = pytest.mark.e2e
PASSWORD = "health-eng-pw-1"
FEATURES = ("temperature_level", "temperature_recent", "vibration_level", "rpm_level")


@pytest.fixture
def drifted(web: WebApp) -> Iterator[str]:
    """Six checks of a type ("pump"): temperature drifts from the fourth on."""
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    for k in range(6):
        at = now - timedelta(minutes=5 * (5 - k))
        for feature in FEATURES:
            hot = feature.startswith("temperature") and k >= 3
            psi = 1.4 if hot else 0.05
            rows.append(
                DriftResult(
                    checked_at=at,
                    machine_type="pump",
                    feature=feature,
                    status="drift" if hot else "ok",
                    period_start=at - timedelta(hours=24),
                    period_end=at,
                    psi=psi,
                    ks_stat=0.4 if hot else 0.03,
                    p_value=1e-9 if hot else 0.6,
                    missing_rate=0.0,
                    out_of_range_rate=0.2 if hot else 0.0,
                    n_reference=1000,
                    n_current=400,
                    reference_shares=[0.1] * 10,
                    current_shares=[0.0] * 7 + [0.1, 0.3, 0.6] if hot else [0.1] * 10,
                )
            )
    with web.db.session() as s:
        s.add_all(rows)
    yield "pump"
    with web.db.session() as s:
        s.execute(delete(DriftResult).where(DriftResult.machine_type == "pump"))


@pytest.fixture
def engineer(web: WebApp) -> Iterator[str]:
    name = f"health-{uuid.uuid4().hex[:6]}"
    user_id = add_user(web.db, name, Role.ENGINEER, PASSWORD)
    yield name
    with web.db.session() as s:
        s.execute(delete(AuditLog).where(AuditLog.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))


def test_an_engineer_sees_drift_quality_and_the_lab_link(dash_duo, web, drifted, engineer):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    sign_in_at(dash_duo, dash_duo.server.url.rstrip("/"), engineer, PASSWORD)
    dash_duo.get_logs()  # drop what the login produced
    visit(dash_duo, f"/model-health?type={drifted}")
    dash_duo.wait_for_contains_text(f"#{v.MH_LAB}", "model lab", timeout=20)
    dash_duo.wait_for_contains_text(f"#{v.MH_LAB}", "Drifted period", timeout=20)
    eventually(lambda: graph_data(dash_duo, v.MH_HEATMAP))
    eventually(lambda: graph_data(dash_duo, v.MH_DISTRIBUTIONS))
    heat = graph_data(dash_duo, v.MH_HEATMAP)
    assert len(heat[0]["x"]) == 6  # one column per check
    assert set(heat[0]["y"]) == set(FEATURES)
    bars = graph_data(dash_duo, v.MH_DISTRIBUTIONS)
    assert len(bars) == 2 * v.WORST  # reference and live for each of the worst three
    assert bars[1]["y"][-1] == 0.6  # the live share in the top decile of a drifted feature
    quality = dash_duo.find_element(f"#{v.MH_QUALITY}").text
    assert "30 days" in quality and "90 days" in quality and "too few verdicts" in quality
    assert (
        "Model health"
        in dash_duo.find_element("#nav-user").find_element("xpath", "ancestor::nav").text
    )
    dash_duo.driver.set_window_size(1400, 1700)  # the whole page in the screenshot
    shot(dash_duo, "model-health-engineer")
    errors = [e for e in dash_duo.get_logs() or [] if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []


def test_the_lab_link_opens_the_lab_on_the_drifted_period(dash_duo, web, drifted, engineer):
    """The page's link carries the drifted days and the type; the lab opens on them: the
    Dates range chosen, both days in its picker, the type's machines picked."""
    with web.db.session() as s:
        pumps = set(s.scalars(select(Machine.name).where(Machine.type == drifted)))
    now = datetime.now(UTC).replace(microsecond=0)
    first = (now - timedelta(minutes=10) - timedelta(hours=24)).date()  # the 4th check's period
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    sign_in_at(dash_duo, dash_duo.server.url.rstrip("/"), engineer, PASSWORD)
    dash_duo.get_logs()
    visit(dash_duo, f"/model-health?type={drifted}")
    dash_duo.wait_for_contains_text(f"#{v.MH_LAB}", "Drifted period", timeout=20)
    link = dash_duo.find_element(f"#{v.MH_LAB_LINK}")
    href = link.get_attribute("href")
    assert f"type={drifted}" in href and f"start={first.isoformat()}" in href
    # the figures above the link are drawn in the same round: wait for them, or the link
    # moves down between scrolling to it and clicking (a click CI once saw intercepted)
    dash_duo.wait_for_element(f"#{v.MH_HEATMAP} .main-svg", timeout=20)
    dash_duo.wait_for_element(f"#{v.MH_DISTRIBUTIONS} .main-svg", timeout=20)
    click(dash_duo, f"#{v.MH_LAB_LINK}")
    dash_duo.wait_for_element(f"#{lab.EXPLORE_DATES}", timeout=20)
    checked = dash_duo.find_element(f"#{lab.EXPLORE_RANGE} input:checked")
    assert checked.get_attribute("value") == "custom"
    days = [
        i.get_attribute("value")
        for i in dash_duo.find_elements(f"#{lab.EXPLORE_DATES_BOX} input.dash-datepicker-input")
    ]
    assert days == [first.isoformat(), now.date().isoformat()]
    eventually(
        lambda: all(p in dash_duo.find_element(f"#{lab.EXPLORE_MACHINES}").text for p in pumps)
    )
    picked = dash_duo.find_element(f"#{lab.EXPLORE_MACHINES}").text
    assert pumps and "compressor" not in picked and "motor" not in picked
    dash_duo.wait_for_element("#lab-explore-summary *", timeout=30)  # the selection was drawn
    dash_duo.driver.set_window_size(1400, 1100)
    shot(dash_duo, "model-health-lab-link")
    errors = [e for e in dash_duo.get_logs() or [] if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []


@pytest.mark.parametrize("user", ["technician", "viewer"])
def test_a_technician_or_viewer_is_refused(dash_duo, web, drifted, user):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, user)
    nav = dash_duo.find_element("#nav-user").find_element("xpath", "ancestor::nav").text
    assert "Model health" not in nav
    visit(dash_duo, f"/model-health?type={drifted}")  # the plain no-access page
    dash_duo.wait_for_text_to_equal(
        f"#{NO_ACCESS} h2", "You don't have access to this page", timeout=20
    )
    assert not dash_duo.driver.find_elements("id", v.MH_HEATMAP)
    shot(dash_duo, f"model-health-refused-{user}")
