"""In Chromium, forms that say everything at once (issue 14): each bad field gets its own
message beside it in one go (new user, shift hours, the lab's training form, a plan); a
plan's SOP comes from a pick-list and a second plan of the same name is refused; a ticket
number that names no ticket says so, without an empty chart."""

from __future__ import annotations

import pytest
from browser import click, click_grid_cell, login, shot, texts, visit
from factories import WebApp
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import delete, func, select

from data.models import LabRun, MaintenancePlan, User
from web.views.admin_users import (
    USERS_CREATE,
    USERS_EDIT_TITLE,
    USERS_GRID,
    USERS_NEW_EMAIL,
    USERS_NEW_NAME,
    USERS_NEW_PASSWORD,
    USERS_NEW_ROLE,
    USERS_SAVE,
    USERS_SHIFT,
    USERS_SHIFT_END,
    USERS_SHIFT_START,
    users_error,
)
from web.views.plans import (
    PLANS_CODE,
    PLANS_CREATE,
    PLANS_EVERY_DAYS,
    PLANS_MACHINE,
    PLANS_NAME,
    PLANS_OK,
    PLANS_TYPE,
)
from web.views.ticket import TICKET_GRAPH, TICKET_MISSING

pytestmark = pytest.mark.e2e


def _type(dash_duo, selector: str, text: str) -> None:  # noqa: ANN001
    element = dash_duo.find_element(selector)
    element.clear()
    element.send_keys(text)


def _start(dash_duo, web: WebApp, user: str) -> None:  # noqa: ANN001
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, user)


def test_a_new_user_with_two_bad_fields_hears_about_both(dash_duo, web: WebApp):
    _start(dash_duo, web, "admin")
    visit(dash_duo, "/admin/users")
    dash_duo.wait_for_element(f"#{USERS_GRID} div[row-id]", timeout=15)
    _type(dash_duo, f"#{USERS_NEW_NAME}", "shift-lead")
    _type(dash_duo, f"#{USERS_NEW_EMAIL}", "shift-lead@nowhere")
    Select(dash_duo.find_element(f"#{USERS_NEW_ROLE}")).select_by_value("manager")
    _type(dash_duo, f"#{USERS_NEW_PASSWORD}", "abc")
    click(dash_duo, f"#{USERS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{users_error('new-email')}", "like name@", timeout=10)
    dash_duo.wait_for_contains_text(f"#{users_error('new-password')}", "at least 10")
    for control in (USERS_NEW_EMAIL, USERS_NEW_PASSWORD):
        assert "is-invalid" in dash_duo.find_element(f"#{control}").get_attribute("class")
    assert dash_duo.find_element(f"#{users_error('new-name')}").text == ""
    with web.db.session() as s:
        assert s.scalar(select(User.id).where(User.username == "shift-lead")) is None
    shot(dash_duo, "forms-new-user-two-errors")


def test_shift_hours_out_of_range_are_refused_with_a_message(dash_duo, web: WebApp):
    _start(dash_duo, web, "admin")
    visit(dash_duo, "/admin/users")
    with web.db.session() as s:
        viewer = s.scalar(select(User.id).where(User.username == "viewer"))
    # other tests' users may push it down the grid
    click_grid_cell(dash_duo, USERS_GRID, viewer, "username")
    dash_duo.wait_for_text_to_equal(f"#{USERS_EDIT_TITLE}", "viewer (viewer)")
    Select(dash_duo.find_element(f"#{USERS_SHIFT}")).select_by_value("custom")
    _type(dash_duo, f"#{USERS_SHIFT_START}", "25")
    _type(dash_duo, f"#{USERS_SHIFT_END}", "-1")
    click(dash_duo, f"#{USERS_SAVE}")
    dash_duo.wait_for_contains_text(f"#{users_error('shift')}", "0 to 23", timeout=10)
    assert "Nothing to change" not in dash_duo.find_element("body").text
    with web.db.session() as s:
        assert s.get(User, viewer).shift_start is None
    shot(dash_duo, "forms-shift-hours")


def test_the_lab_form_flags_every_bad_field(dash_duo, web: WebApp):
    with web.db.session() as s:
        runs_before = s.scalar(select(func.count(LabRun.id)))
    _start(dash_duo, web, "engineer")
    visit(dash_duo, "/lab")
    tabs = dash_duo.wait_for_element("#lab-tabs", timeout=15)
    tabs.find_elements("css selector", "a.nav-link")[2].click()
    _type(dash_duo, "#lab-train-contamination", "abc")
    _type(dash_duo, "#lab-train-epochs", "500")
    click(dash_duo, "#lab-train-start")
    dash_duo.wait_for_contains_text("#lab-train-contamination-error", "'auto' or a share", 10)
    dash_duo.wait_for_contains_text("#lab-train-epochs-error", "between 1 and 50")
    with web.db.session() as s:
        assert s.scalar(select(func.count(LabRun.id))) == runs_before  # nothing was queued
    shot(dash_duo, "forms-lab-train")


def test_a_plan_takes_its_sop_from_the_list_and_refuses_a_duplicate_name(dash_duo, web: WebApp):
    with web.db.session() as s:
        s.execute(delete(MaintenancePlan).where(MaintenancePlan.name == "Grease motors"))
    _start(dash_duo, web, "manager")
    visit(dash_duo, "/plans")
    dash_duo.wait_for_element(f"#{PLANS_CODE} option[value='PM_LUBRICATION']", timeout=15)
    codes = [
        o.get_attribute("value") for o in Select(dash_duo.find_element(f"#{PLANS_CODE}")).options
    ]
    assert "NOPE" not in codes and "PM_INSPECTION" in codes
    # nothing filled in: every field that needs something says so at once
    click(dash_duo, f"#{PLANS_CREATE}")
    for field in (PLANS_NAME, PLANS_CODE, PLANS_MACHINE, PLANS_EVERY_DAYS):
        dash_duo.wait_for_element(f"#{field}-error", timeout=10)
    dash_duo.wait_for_contains_text(f"#{PLANS_NAME}-error", "A name is required", timeout=10)
    assert "SOP code" in dash_duo.find_element(f"#{PLANS_CODE}-error").text
    assert "Choose either" in dash_duo.find_element(f"#{PLANS_MACHINE}-error").text
    assert "every N days" in dash_duo.find_element(f"#{PLANS_EVERY_DAYS}-error").text
    shot(dash_duo, "forms-plan-errors")

    _type(dash_duo, f"#{PLANS_NAME}", "Grease motors")
    Select(dash_duo.find_element(f"#{PLANS_CODE}")).select_by_value("PM_LUBRICATION")
    Select(dash_duo.find_element(f"#{PLANS_TYPE}")).select_by_value("motor")
    _type(dash_duo, f"#{PLANS_EVERY_DAYS}", "30")
    click(dash_duo, f"#{PLANS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{PLANS_OK}", "Grease motors", timeout=10)
    _type(dash_duo, f"#{PLANS_NAME}", "grease motors")  # the same name, told apart by case only
    click(dash_duo, f"#{PLANS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{PLANS_NAME}-error", "exists already", timeout=10)
    with web.db.session() as s:
        named = s.scalars(select(MaintenancePlan.name)).all()
        s.execute(delete(MaintenancePlan).where(MaintenancePlan.name == "Grease motors"))
    assert [n.lower() for n in named].count("grease motors") == 1
    shot(dash_duo, "forms-plan-duplicate")


def test_a_ticket_number_that_names_no_ticket_says_so(dash_duo, web: WebApp):
    _start(dash_duo, web, "manager")
    for path, said in (("/ticket/abc", "“abc”"), ("/ticket/999999", "#999999")):
        visit(dash_duo, path)
        dash_duo.wait_for_contains_text(f"#{TICKET_MISSING}", "No such ticket", timeout=15)
        assert said in dash_duo.find_element(f"#{TICKET_MISSING}").text
        graphs = dash_duo.driver.find_elements("css selector", f"#{TICKET_GRAPH}")
        assert not graphs or not graphs[0].is_displayed()  # no empty chart
        assert texts(dash_duo, f"#{TICKET_MISSING} a") == ["See all tickets"]
    shot(dash_duo, "ticket-missing")
