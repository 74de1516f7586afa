"""In Chromium, every page for every role (issue 14): the browser console stays free of
errors, warnings and markup advice; a page outside the role shows "You don't have access to
this page" with a way back, and the server answers 403 for its URL (never 500, never half a page);
a viewer is shown no control their role may not use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from browser import login, pattern, shot, visit
from factories import WebApp, clear_tickets
from services import free_port
from sqlalchemy import select

from bench.page_tour import ROLES, chrome, console_problems, pages, sign_in, wait_settled
from data.models import Priority, User
from maintenance.ticketing.ticket_flow import open_ticket
from web.views.alarms import ALARMS_ACK, ALARMS_CLEAR, SILENCE_SUBMIT
from web.views.shell import NO_ACCESS
from web.views.ticket import ticket_detail_action
from web.views.ticket_files import TICKET_FILES_FORM

pytestmark = pytest.mark.e2e


@pytest.fixture
def ticket_id(web: WebApp) -> Iterator[int]:
    """An open ticket of the demo technician on motor-01, so the ticket page has content."""
    with web.db.session() as s:
        clear_tickets(s)
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
        )
        ticket.technician_id = s.scalar(select(User.id).where(User.username == "technician"))
        s.flush()
        opened = ticket.id
    yield opened


def _document_403(entry: dict, url: str) -> bool:
    """Chromium's own line for a page answered 403: expected on a page outside the role."""
    return entry["message"].startswith(url + " - ") and "status of 403" in entry["message"]


def test_no_console_error_or_warning_on_any_page_for_any_role(
    dash_duo, web: WebApp, ticket_id: int
):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    tour = pages({"name": "motor-01", "ticket_id": str(ticket_id)})
    assert len(tour) >= 16
    problems, statuses, unsettled = [], {}, []
    for role in ROLES:
        driver = chrome()
        try:
            sign_in(driver, base, role.value, web.password(role.value))
            http = requests.Session()
            http.headers["User-Agent"] = driver.execute_script("return navigator.userAgent")
            for cookie in driver.get_cookies():
                http.cookies.set(cookie["name"], cookie["value"])
            console_problems(driver)  # the sign-in page's lines are not a page's
            for page in tour:
                url = base + page.path
                driver.get(url)
                if not wait_settled(driver, timeout=30):
                    unsettled.append((role.value, page.path))
                statuses[(role.value, page.path)] = http.get(url, timeout=30).status_code
                shown = driver.find_elements("id", NO_ACCESS)
                if page.allows(role):
                    assert not shown, f"{role.value} may open {page.path}"
                else:
                    assert shown and shown[0].is_displayed(), f"{role.value} on {page.path}"
                    back = shown[0].find_element("css selector", "a")
                    assert back.get_attribute("href") == base + "/"
                for entry in console_problems(driver):
                    if not (not page.allows(role) and _document_403(entry, url)):
                        problems.append((role.value, page.path, entry["message"][:300]))
        finally:
            driver.quit()
    assert problems == [], "\n".join(map(str, problems))
    assert unsettled == []
    expected = {
        (role.value, page.path): 200 if page.allows(role) else 403
        for role in ROLES
        for page in tour
    }
    assert statuses == expected


def test_a_viewer_is_shown_no_control_the_role_may_not_use(dash_duo, web: WebApp, ticket_id: int):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "viewer")
    visit(dash_duo, "/alarms")
    dash_duo.wait_for_element("#alarms-grid", timeout=15)
    for control in (ALARMS_ACK, ALARMS_CLEAR, SILENCE_SUBMIT):
        found = dash_duo.driver.find_elements("id", control)
        assert not found or not found[0].is_displayed(), control
    shot(dash_duo, "roles-viewer-alarms")

    visit(dash_duo, f"/ticket/{ticket_id}")
    dash_duo.wait_for_text_to_equal("#ticket-sop-title", "Vibration above limit", timeout=15)
    assert not dash_duo.driver.find_elements("css selector", pattern(ticket_detail_action("start")))
    assert not dash_duo.find_element(f"#{TICKET_FILES_FORM}").is_displayed()
    assert not dash_duo.find_element("#ticket-comment-form").is_displayed()

    visit(dash_duo, "/audit")  # outside the viewer's rights: the plain no-access page
    dash_duo.wait_for_text_to_equal(f"#{NO_ACCESS} h2", "You don't have access to this page")
    shot(dash_duo, "roles-viewer-no-access")


def test_a_manager_still_has_the_alarm_controls(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "manager")
    visit(dash_duo, "/alarms")
    for control in (ALARMS_ACK, ALARMS_CLEAR, SILENCE_SUBMIT):
        assert dash_duo.wait_for_element(f"#{control}", timeout=15).is_displayed(), control
