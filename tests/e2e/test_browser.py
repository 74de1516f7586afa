"""In Chromium: a technician logs in, sees the fleet, opens the tickets page and works a
ticket through OPEN -> IN_PROGRESS -> RESOLVED. Screenshots land in screenshots/."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from browser import graph_data, login, pattern, readings, shot, visit
from factories import WebApp, clear_tickets
from selenium.webdriver.common.by import By
from services import free_port
from sqlalchemy import select

from data.models import Downtime, DowntimeKind, Priority, Ticket, TicketStatus
from maintenance.alarming.threshold_rules import evaluate_rules
from maintenance.ticketing.ticket_flow import open_ticket
from simulator.fleet_physics import MACHINE_TYPES
from web.views.fleet import fleet_alarms, fleet_badge, fleet_card, fleet_graph
from web.views.resolve_dialog import (
    RESOLVE_ACTION,
    RESOLVE_CAUSE,
    RESOLVE_OUTCOME,
    RESOLVE_OUTCOME_ERROR,
    RESOLVE_SUBMIT,
)
from web.views.shell import NAV_USER
from web.views.tickets import TICKETS_FEEDBACK, TICKETS_FILTER, ticket_action

pytestmark = pytest.mark.e2e
HEALTHY = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}


def _seed(web: WebApp) -> int:
    with web.db.session() as s:
        clear_tickets(s)
    for machine in ("motor-01", "pump-01", "compressor-01"):
        rpm = MACHINE_TYPES[machine.split("-")[0]].rpm  # below its critical limit: stopped
        readings(web, machine, {**HEALTHY, "rpm": rpm}, seconds=120)
    with web.db.session() as s:
        return open_ticket(
            session=s,
            machine_id=1,
            code="VIB_HIGH",
            title="motor-01: vibration 4.1 mm/s above warning limit 3.6",
            priority=Priority.HIGH,
        ).id


def _points(dash_duo, machine_id: int) -> int:
    """Points of the vibration trace in a machine's fleet tile."""
    element_id = json.dumps(fleet_graph(machine_id), sort_keys=True, separators=(",", ":"))
    traces = graph_data(dash_duo, element_id)
    return len(traces[1]["x"]) if traces else -1


def _button(dash_duo, ticket_id: int, action: str):
    element_id = json.dumps(ticket_action(ticket_id, action), sort_keys=True, separators=(",", ":"))
    return dash_duo.driver.find_element(By.XPATH, f"//*[@id='{element_id}']")


def test_technician_works_a_ticket_from_open_to_resolved(dash_duo, web: WebApp):
    ticket_id = _seed(web)
    # "/" redirects to the login page, so dash testing must not wait for the app there
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "technician")

    # a technician lands on their own tickets, most urgent first
    dash_duo.wait_for_element(f"#ticket-row-{ticket_id}", timeout=15)
    mine = f"#_dbcprivate_radioitems_{TICKETS_FILTER}_input_mine"
    assert dash_duo.find_element(mine).is_selected()
    visit(dash_duo, "/")
    dash_duo.wait_for_element(".machine-card", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#{NAV_USER}", "technician (technician)")
    assert len(dash_duo.find_elements(".machine-card")) == 3
    dash_duo.wait_for_contains_text("#mode-text", "Threshold rules only")  # no model active
    assert len(dash_duo.find_elements(".machine-card .js-plotly-plot")) == 3
    before = _points(dash_duo, 2)
    assert before >= 3  # two minutes of history in 30 s buckets

    # live: new readings extend the graph, and a rule alarm turns the card red on the next tick
    readings(
        web, "pump-01", {"vibration": 9.0, "temperature": 46.0}, seconds=5, end=time.time() + 5
    )
    with web.db.session() as s:
        evaluate_rules(
            session=s,
            now=datetime.now(UTC) + timedelta(seconds=5),
            window=timedelta(seconds=3),
            clear_after=timedelta(seconds=60),
        )
    dash_duo.wait_for_text_to_equal(pattern(fleet_badge(2)), "Critical", timeout=10)
    dash_duo.wait_for_text_to_equal(pattern(fleet_alarms(2)), "VIB_HIGH (critical)")
    assert _points(dash_duo, 2) >= before + 5
    tile = dash_duo.find_element(pattern(fleet_card(2)))
    assert "border-danger" in tile.get_attribute("class")
    shot(dash_duo, "fleet")

    dash_duo.find_element("a.nav-link[href='/tickets']").click()
    dash_duo.wait_for_element(f"#ticket-row-{ticket_id}", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#ticket-status-{ticket_id}", "OPEN")
    shot(dash_duo, "tickets")

    _button(dash_duo, ticket_id, "start").click()
    dash_duo.wait_for_text_to_equal(f"#ticket-status-{ticket_id}", "IN PROGRESS", timeout=10)

    _button(dash_duo, ticket_id, "resolve").click()
    dash_duo.wait_for_element(f"#{RESOLVE_SUBMIT}").click()  # nothing filled in
    dash_duo.wait_for_text_to_equal(f"#{RESOLVE_OUTCOME_ERROR}", "Choose an outcome.")
    for field in (RESOLVE_CAUSE, RESOLVE_ACTION):
        assert "is-invalid" in dash_duo.find_element(f"#{field}").get_attribute("class")
    shot(dash_duo, "resolve-errors")
    dash_duo.find_element(
        f"label[for='_dbcprivate_radioitems_{RESOLVE_OUTCOME}_input_failure']"
    ).click()
    dash_duo.find_element(f"#{RESOLVE_CAUSE}").send_keys("Bearing worn")
    dash_duo.find_element(f"#{RESOLVE_ACTION}").send_keys("Bearing replaced, vibration 1.9")
    dash_duo.find_element(f"#{RESOLVE_SUBMIT}").click()
    dash_duo.wait_for_contains_text(f"#{TICKETS_FEEDBACK}", "is now RESOLVED", timeout=10)

    dash_duo.find_element(f"label[for='_dbcprivate_radioitems_{TICKETS_FILTER}_input_all']").click()
    dash_duo.wait_for_text_to_equal(f"#ticket-status-{ticket_id}", "RESOLVED", timeout=10)
    shot(dash_duo, "tickets-resolved")
    with web.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.id == ticket_id))
        assert ticket.status is TicketStatus.RESOLVED
        assert ticket.failure_confirmed is True
        assert (ticket.cause, ticket.action_taken) == (
            "Bearing worn",
            "Bearing replaced, vibration 1.9",
        )
        # the stop the dialog proposed (ticket opened .. now) became a breakdown for reports
        stop = s.scalar(select(Downtime).where(Downtime.ticket_id == ticket_id))
        assert stop.kind is DowntimeKind.BREAKDOWN and stop.machine_id == ticket.machine_id
        assert stop.started_at <= stop.ended_at <= datetime.now(UTC)
