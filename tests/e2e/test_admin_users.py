"""In Chromium: an admin creates a user, changes their role (counted on the user's next page
load, in another browser) and deactivates them; an admin invites a user by an emailed link,
then the user resets a forgotten password through the link a real local SMTP server
received, and the old session is signed out."""

from __future__ import annotations

import pytest
import requests
from browser import click, eventually, grid_row, login, shot, sign_in_at, sign_out, texts, visit
from factories import WebApp
from mail_server import reset_link
from selenium.webdriver.support.ui import Select
from services import free_port
from sqlalchemy import func, select

from data.models import AuditLog, Role, User
from web.views.admin_users import (
    USERS_ACTIVE,
    USERS_CREATE,
    USERS_EDIT_TITLE,
    USERS_GRID,
    USERS_NEW_EMAIL,
    USERS_NEW_MODE,
    USERS_NEW_NAME,
    USERS_NEW_PASSWORD,
    USERS_NEW_ROLE,
    USERS_ROLE,
    USERS_SAVE,
    USERS_SHIFT,
    USERS_SKILLS,
    users_error,
)
from web.views.alarms import ALARMS_ACK
from web.views.shell import NAV_USER

pytestmark = pytest.mark.e2e
LEAD_PASSWORD = "line-lead-pw-1"


def _menu(browser) -> list[str]:  # noqa: ANN001
    """The menu's entries, those under "Admin" included (opened to be read)."""
    toggles = browser.driver.find_elements("css selector", "#nav-admin .dropdown-toggle")
    if toggles and not browser.driver.find_elements("css selector", ".navbar .dropdown-item"):
        toggles[0].click()
    return browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('.navbar .nav-link, .navbar .dropdown-item'))"
        ".map(e => e.textContent);"
    )


def _type(dash_duo, selector: str, text: str) -> None:  # noqa: ANN001
    element = dash_duo.find_element(selector)
    element.clear()
    element.send_keys(text)


def _user_id(web: WebApp, name: str) -> int:
    with web.db.session() as s:
        return s.scalar(select(User.id).where(User.username == name))


def test_admin_creates_a_user_and_role_changes_count_on_their_next_page(
    dash_duo, web: WebApp, other_browser
):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    login(dash_duo, web, "admin")
    assert "Users" in _menu(dash_duo)
    visit(dash_duo, "/admin/users")
    dash_duo.wait_for_element(f"#{USERS_GRID} div[row-id]", timeout=15)

    # each refusal is shown next to its field, and nothing is created
    click(dash_duo, f"#{USERS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{users_error('new-name')}", "3 to 64", timeout=10)
    _type(dash_duo, f"#{USERS_NEW_NAME}", "line-lead")
    _type(dash_duo, f"#{USERS_NEW_EMAIL}", "line-lead@plant.example")
    Select(dash_duo.find_element(f"#{USERS_NEW_ROLE}")).select_by_value("manager")
    _type(dash_duo, f"#{USERS_NEW_PASSWORD}", "short")
    click(dash_duo, f"#{USERS_CREATE}")
    dash_duo.wait_for_contains_text(f"#{users_error('new-password')}", "at least 10")
    assert dash_duo.find_element(f"#{users_error('new-name')}").text == ""
    assert "is-invalid" in dash_duo.find_element(f"#{USERS_NEW_PASSWORD}").get_attribute("class")
    assert _user_id(web, "line-lead") is None
    shot(dash_duo, "users-errors")
    _type(dash_duo, f"#{USERS_NEW_PASSWORD}", LEAD_PASSWORD)
    click(dash_duo, f"#{USERS_CREATE}")
    dash_duo.wait_for_contains_text("#users-note", "Created line-lead (manager).", timeout=10)
    lead = _user_id(web, "line-lead")
    grid_row(dash_duo, USERS_GRID, lead)  # other tests' users may push it down the grid
    row = f"#{USERS_GRID} div[row-id='{lead}']"
    dash_duo.wait_for_text_to_equal(f"{row} [col-id='role']", "manager", timeout=10)

    # the new user signs in at another desk and has a manager's pages
    sign_in_at(other_browser, base, "line-lead", LEAD_PASSWORD)
    assert "Audit" in _menu(other_browser) and "Users" not in _menu(other_browser)
    other_browser.driver.get(base + "/alarms")
    other_browser.wait_for_element(f"#{ALARMS_ACK}", timeout=15).click()
    other_browser.wait_for_contains_text("#alarms-note", "Select one or more alarms first.")

    # the admin makes them a viewer with a skill and a shift
    dash_duo.find_element(f"{row} [col-id='username']").click()
    dash_duo.wait_for_text_to_equal(f"#{USERS_EDIT_TITLE}", "line-lead (manager)")
    Select(dash_duo.find_element(f"#{USERS_ROLE}")).select_by_value("viewer")
    click(dash_duo, f"label[for='_dbcprivate_checklist_{USERS_SKILLS}_input_motor']")
    Select(dash_duo.find_element(f"#{USERS_SHIFT}")).select_by_value("day")
    click(dash_duo, f"#{USERS_SAVE}")
    dash_duo.wait_for_contains_text("#users-note", "Saved: role, skills and shift.", timeout=10)
    dash_duo.wait_for_text_to_equal(f"{row} [col-id='shift']", "day 06-14", timeout=10)
    dash_duo.driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    shot(dash_duo, "users")
    with web.db.session() as s:
        user = s.get(User, lead)
        assert (user.role, user.skills, user.shift_start, user.shift_end) == (
            Role.VIEWER,
            ["motor"],
            6,
            14,
        )

    # the same session, on its next page load: a viewer's menu and rights
    other_browser.driver.get(base + "/alarms")
    other_browser.wait_for_text_to_equal(f"#{NAV_USER}", "line-lead (viewer)", timeout=15)
    assert "Audit" not in _menu(other_browser)
    other_browser.wait_for_element("#alarms-grid", timeout=15)  # a viewer's: no write controls
    assert not other_browser.find_element(f"#{ALARMS_ACK}").is_displayed()

    # deactivated: signed out at once
    click(dash_duo, f"#{USERS_ACTIVE}")
    dash_duo.wait_for_contains_text("#users-note", "line-lead is deactivated", timeout=10)
    dash_duo.wait_for_text_to_equal(f"{row} [col-id='status']", "deactivated", timeout=10)
    other_browser.driver.get(base + "/alarms")
    other_browser.wait_for_element("#login-submit", timeout=15)

    # the only admin cannot deactivate themselves
    with web.db.session() as s:
        admins = s.scalar(
            select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))
        )
    if admins == 1:
        dash_duo.find_element(
            f"#{USERS_GRID} div[row-id='{_user_id(web, 'admin')}'] [col-id='username']"
        ).click()
        dash_duo.wait_for_text_to_equal(f"#{USERS_EDIT_TITLE}", "admin (admin)")
        click(dash_duo, f"#{USERS_ACTIVE}")
        dash_duo.wait_for_contains_text(
            f"#{users_error('active')}", "last active admin", timeout=10
        )
    with web.db.session() as s:
        actions = s.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity == "user", AuditLog.entity_id == str(lead))
            .order_by(AuditLog.id)
        ).all()
    assert actions == ["user.create", "user.role", "user.skills_shift", "user.deactivate"]


def _requests_login(base: str, name: str, password: str) -> tuple[requests.Session, int]:
    http = requests.Session()
    page = http.get(base + "/login", timeout=30).text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": token, "username": name, "password": password}
    answer = http.post(base + "/login", data=form, allow_redirects=False, timeout=30)
    return http, answer.status_code


def _set_first_password(link: str, password: str) -> None:
    """The new user, at another desk, opens the link from the invitation email."""
    http = requests.Session()
    page = http.get(link, timeout=30).text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": token, "password": password, "confirm": password}
    assert "signed out everywhere" in http.post(link, data=form, timeout=30).text


def test_forgotten_password_is_reset_through_the_emailed_link(
    dash_duo, web: WebApp, mailbox, monkeypatch
):
    for key, value in mailbox.settings().items():
        monkeypatch.setattr(web.settings, key, value)
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")

    # the admin creates the account with an emailed link instead of a password
    login(dash_duo, web, "admin")
    visit(dash_duo, "/admin/users")
    dash_duo.wait_for_element(f"#{USERS_GRID} div[row-id]", timeout=15)
    _type(dash_duo, f"#{USERS_NEW_NAME}", "reset-me")
    _type(dash_duo, f"#{USERS_NEW_EMAIL}", "reset-me@plant.example")
    Select(dash_duo.find_element(f"#{USERS_NEW_ROLE}")).select_by_value("viewer")
    click(dash_duo, f"label[for='_dbcprivate_radioitems_{USERS_NEW_MODE}_input_link']")
    click(dash_duo, f"#{USERS_CREATE}")
    dash_duo.wait_for_contains_text(
        "#users-note", "A reset link was sent to reset-me@plant.example.", timeout=10
    )
    _set_first_password(reset_link(mailbox.wait_for("reset-me@plant.example")), "old-password-1")
    sign_out(dash_duo)

    old_session, status = _requests_login(base, "reset-me", "old-password-1")
    assert status == 302 and old_session.get(base + "/api/me", timeout=30).status_code == 200
    sent = mailbox.sent_to("reset-me@plant.example")

    visit(dash_duo, "/login")
    dash_duo.wait_for_element("#forgot-link", timeout=15)
    shot(dash_duo, "login-forgot-link")
    dash_duo.find_element("#forgot-link").click()
    dash_duo.wait_for_element("#forgot-login", timeout=15).send_keys("reset-me")
    shot(dash_duo, "forgot-password")
    dash_duo.find_element("#forgot-submit").click()
    dash_duo.wait_for_contains_text("#forgot-sent", "If an account has this user name")
    shot(dash_duo, "forgot-password-sent")

    eventually(lambda: mailbox.sent_to("reset-me@plant.example") == sent + 1)
    link = reset_link(mailbox.wait_for("reset-me@plant.example"))
    assert link.startswith(base + "/reset/")
    dash_duo.driver.get(link)
    dash_duo.wait_for_element("#reset-password", timeout=15).send_keys("short")
    dash_duo.find_element("#reset-confirm").send_keys("short")
    dash_duo.find_element("#reset-submit").click()
    dash_duo.wait_for_contains_text("#reset-password-error", "at least 10", timeout=10)
    shot(dash_duo, "reset-password")
    dash_duo.find_element("#reset-password").send_keys("new-password-22")
    dash_duo.find_element("#reset-confirm").send_keys("new-password-22")
    dash_duo.find_element("#reset-submit").click()
    dash_duo.wait_for_contains_text("#reset-done", "signed out everywhere", timeout=10)
    shot(dash_duo, "reset-password-done")

    # the old session is gone, the old password too; the new one works
    assert old_session.get(base + "/api/me", timeout=30).status_code == 401
    assert _requests_login(base, "reset-me", "old-password-1")[1] == 401
    dash_duo.find_element("#reset-login").click()
    dash_duo.wait_for_element("#username", timeout=15).send_keys("reset-me")
    dash_duo.find_element("#password").send_keys("new-password-22")
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_text_to_equal(f"#{NAV_USER}", "reset-me (viewer)", timeout=15)
    assert texts(dash_duo, f"#{NAV_USER}") == ["reset-me (viewer)"]

    # the link worked once
    dash_duo.driver.get(link)
    dash_duo.wait_for_contains_text("#reset-invalid", "invalid, used or expired", timeout=10)
