"""In Chromium: a technician logs in, sees the fleet, opens the tickets page and works a
ticket through OPEN -> IN_PROGRESS -> RESOLVED. Screenshots land in screenshots/."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import WebApp
from selenium.webdriver.common.by import By
from services import free_port
from sqlalchemy import select

from data.fleet import sensor_directory
from data.models import Priority, Ticket, TicketStatus
from data.readings import insert_readings
from maintenance.rules import evaluate_rules
from maintenance.tickets import open_ticket
from web import ids

pytestmark = pytest.mark.e2e
HEALTHY = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _shot(dash_duo, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def _readings(
    web: WebApp, machine: str, values: dict[str, float], seconds: int, end: float | None = None
) -> None:
    """One reading per second per sensor of ``machine`` for ``seconds`` up to ``end``."""
    end = time.time() if end is None else end
    with web.db.session() as s:
        sensors = {k: sid for (m, k), sid in sensor_directory(session=s).items() if m == machine}
        rows = [
            (sensors[key], datetime.fromtimestamp(end - i, UTC), value + (i % 7) * 0.01)
            for key, value in values.items()
            for i in range(seconds)
        ]
        insert_readings(session=s, rows=rows)


def _seed(web: WebApp) -> int:
    with web.db.session() as s:
        s.execute(Ticket.__table__.delete())
    for machine in ("motor-01", "pump-01", "compressor-01"):
        _readings(web, machine, HEALTHY, seconds=120)
    with web.db.session() as s:
        return open_ticket(
            session=s,
            machine_id=1,
            code="VIB_HIGH",
            title="motor-01: vibration 4.1 mm/s above warning limit 3.6",
            priority=Priority.HIGH,
        ).id


def _points(dash_duo, machine_id: int) -> int:
    element_id = json.dumps(ids.fleet_graph(machine_id), sort_keys=True, separators=(",", ":"))
    return dash_duo.driver.execute_script(
        "const g = document.getElementById(arguments[0]);"
        "return g && g.querySelector('.js-plotly-plot') ?"
        " g.querySelector('.js-plotly-plot').data[1].x.length : -1;",
        element_id,
    )


def _login(dash_duo, web: WebApp, user: str) -> None:
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/login")
    dash_duo.wait_for_element("#username").send_keys(user)
    dash_duo.find_element("#password").send_keys(web.password(user))
    _shot(dash_duo, "login")
    dash_duo.find_element("#login-submit").click()


def _button(dash_duo, ticket_id: int, action: str):
    element_id = json.dumps(
        ids.ticket_action(ticket_id, action), sort_keys=True, separators=(",", ":")
    )
    return dash_duo.driver.find_element(By.XPATH, f"//*[@id='{element_id}']")


def test_technician_works_a_ticket_from_open_to_resolved(dash_duo, web: WebApp):
    ticket_id = _seed(web)
    # "/" redirects to the login page, so dash testing must not wait for the app there
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    _login(dash_duo, web, "technician")

    dash_duo.wait_for_element(".machine-card", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#{ids.NAV_USER}", "technician (technician)")
    assert len(dash_duo.find_elements(".machine-card")) == 3
    dash_duo.wait_for_contains_text("#mode-text", "Threshold rules only")  # no model active
    assert len(dash_duo.find_elements(".machine-card .js-plotly-plot")) == 3
    before = _points(dash_duo, 2)
    assert before >= 100

    # live: new readings extend the graph, and a rule alarm turns the card red on the next tick
    _readings(
        web, "pump-01", {"vibration": 9.0, "temperature": 46.0}, seconds=5, end=time.time() + 5
    )
    with web.db.session() as s:
        evaluate_rules(
            session=s,
            now=datetime.now(UTC) + timedelta(seconds=5),
            window=timedelta(seconds=3),
            clear_after=timedelta(seconds=60),
        )
    badge = json.dumps(ids.fleet_badge(2), sort_keys=True, separators=(",", ":"))
    dash_duo.wait_for_text_to_equal(f"[id='{badge}']", "Critical", timeout=10)
    alarms = json.dumps(ids.fleet_alarms(2), sort_keys=True, separators=(",", ":"))
    dash_duo.wait_for_text_to_equal(f"[id='{alarms}']", "VIB_HIGH (critical)")
    assert _points(dash_duo, 2) >= before + 5
    _shot(dash_duo, "fleet")

    dash_duo.find_element("a.nav-link[href='/tickets']").click()
    dash_duo.wait_for_element(f"#ticket-row-{ticket_id}", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#ticket-status-{ticket_id}", "OPEN")
    _shot(dash_duo, "tickets")

    _button(dash_duo, ticket_id, "start").click()
    dash_duo.wait_for_text_to_equal(f"#ticket-status-{ticket_id}", "IN PROGRESS", timeout=10)

    _button(dash_duo, ticket_id, "resolve").click()
    dash_duo.wait_for_element(f"#{ids.RESOLVE_SUBMIT}").click()  # nothing filled in
    dash_duo.wait_for_text_to_equal(f"#{ids.RESOLVE_OUTCOME_ERROR}", "Choose an outcome.")
    assert "is-invalid" in dash_duo.find_element(f"#{ids.RESOLVE_NOTE}").get_attribute("class")
    _shot(dash_duo, "resolve-errors")
    dash_duo.find_element(
        f"label[for='_dbcprivate_radioitems_{ids.RESOLVE_OUTCOME}_input_failure']"
    ).click()
    dash_duo.find_element(f"#{ids.RESOLVE_NOTE}").send_keys("Bearing replaced, vibration 1.9")
    dash_duo.find_element(f"#{ids.RESOLVE_SUBMIT}").click()
    dash_duo.wait_for_contains_text(f"#{ids.TICKETS_FEEDBACK}", "is now RESOLVED", timeout=10)

    dash_duo.find_element(
        f"label[for='_dbcprivate_radioitems_{ids.TICKETS_FILTER}_input_all']"
    ).click()
    dash_duo.wait_for_text_to_equal(f"#ticket-status-{ticket_id}", "RESOLVED", timeout=10)
    _shot(dash_duo, "tickets-resolved")
    with web.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.id == ticket_id))
        assert ticket.status is TicketStatus.RESOLVED
        assert ticket.failure_confirmed is True
        assert ticket.resolution == "Bearing replaced, vibration 1.9"
