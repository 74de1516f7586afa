"""In Chromium: a user signed in at two desks sees both sessions on the account page (reached
from their name in the menu bar) and ends the other one; the other browser's page then says
that its session has ended (the shell's session-state callback), with a link back through the
sign-in, and stops asking the server for anything else. (A role refused while signed in is
shown on the page: test_refusals_browser.py.)"""

from __future__ import annotations

import time

import pytest
from browser import click, click_grid_cell, login, pattern, shot, sign_in_at, texts, visit
from factories import WebApp, add_user
from services import free_port
from sqlalchemy import select

from data.models import Role, UserSession
from web.views.account import ACCOUNT_FEEDBACK, ACCOUNT_SESSIONS, end_button
from web.views.admin_users import USERS_EDIT_TITLE, USERS_GRID, USERS_SIGN_OUT
from web.views.shell import NAV_USER, PAGE, SESSION_ENDED, SESSION_SIGN_IN

pytestmark = pytest.mark.e2e
PASSWORD = "two-desks-pw-1"


def _severe(browser) -> list[dict]:  # noqa: ANN001
    return [e for e in browser.get_logs() or [] if e.get("level") in ("SEVERE", "WARNING")]


def _refused_callback(entry: dict) -> bool:
    """A console entry of a callback request refused for want of a session: Chrome's network
    error, or the TypeError Dash's renderer (4.4) throws reading that answer's body twice."""
    message = entry["message"]
    if entry["source"] == "network":
        return "/_dash-update-component" in message and "status of 401" in message
    return "dash_renderer" in message and "body stream already read" in message


def _says_the_session_ended(browser, base: str, path: str) -> None:  # noqa: ANN001
    """The page says so, links to the sign-in (back to ``path``), and has gone quiet: its
    page is cleared and its timers stopped, so no further refused requests (401) follow."""
    browser.wait_for_contains_text(f"#{SESSION_ENDED}", "Your session has ended.", timeout=15)
    link = browser.find_element(f"#{SESSION_SIGN_IN}")
    assert link.text == "Sign in"
    assert link.get_attribute("href") == f"{base}/login?next={path.replace('/', '%2F')}"
    assert texts(browser, f"#{PAGE}") == [""]
    # until the page learned it (up to one tick), its other callbacks were refused (401):
    # Chrome logs each as a network error, and Dash's renderer adds "body stream already
    # read" (it reads a 401's body twice). Nothing else.
    before = _severe(browser)
    assert all(_refused_callback(e) for e in before), before
    time.sleep(7)  # two ticks of every shell timer, and the pages' 5-second ones
    assert _severe(browser) == []


def test_ending_a_session_from_the_account_page_signs_the_other_browser_out(
    dash_duo, web: WebApp, other_browser
):
    user = add_user(web.db, "two-desks", Role.TECHNICIAN, password=PASSWORD)
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    sign_in_at(other_browser, base, "two-desks", PASSWORD)
    sign_in_at(dash_duo, base, "two-desks", PASSWORD)
    click(dash_duo, f"#{NAV_USER}")  # the name in the menu bar leads to the account page
    dash_duo.wait_for_contains_text(f"#{ACCOUNT_SESSIONS}", "this browser", timeout=15)
    rows = texts(dash_duo, f"#{ACCOUNT_SESSIONS} tbody tr")
    assert len(rows) == 2 and sum("this browser" in r for r in rows) == 1, rows
    assert all("Chrome" in r and "127.0.0.1" in r for r in rows), rows
    shot(dash_duo, "account-sessions")
    assert _severe(dash_duo) == []
    with web.db.session() as s:
        other = s.scalar(
            select(UserSession.id)
            .where(UserSession.user_id == user, UserSession.ended_at.is_(None))
            .order_by(UserSession.id)
            .limit(1)
        )
    click(dash_duo, pattern(end_button(other)))
    dash_duo.wait_for_contains_text(f"#{ACCOUNT_FEEDBACK}", "That session is signed out.")
    dash_duo.wait_for_contains_text(f"#{ACCOUNT_SESSIONS}", "this browser")
    assert len(texts(dash_duo, f"#{ACCOUNT_SESSIONS} tbody tr")) == 1
    # the other browser's page polls (the red banner, every 3 s): it learns it was signed out
    _says_the_session_ended(other_browser, base, "/tickets")  # a technician lands there
    shot(other_browser, "account-session-ended")
    other_browser.find_element(f"#{SESSION_SIGN_IN}").click()
    other_browser.wait_for_element("#username", timeout=15)  # the sign-in page
    other_browser.find_element("#username").send_keys("two-desks")
    other_browser.find_element("#password").send_keys(PASSWORD)
    other_browser.find_element("#login-submit").click()
    other_browser.wait_for_contains_text(f"#{NAV_USER}", "two-desks (", timeout=15)
    assert other_browser.driver.current_url == base + "/tickets"  # back where it was


def test_an_admin_signs_a_user_out_everywhere_from_the_users_page(
    dash_duo, web: WebApp, other_browser
):
    user = add_user(web.db, "left-signed-in", Role.TECHNICIAN, password=PASSWORD)
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    sign_in_at(other_browser, base, "left-signed-in", PASSWORD)
    login(dash_duo, web, "admin")
    visit(dash_duo, "/admin/users")
    click_grid_cell(dash_duo, USERS_GRID, user, "username")
    dash_duo.wait_for_text_to_equal(f"#{USERS_EDIT_TITLE}", "left-signed-in (technician)")
    click(dash_duo, f"#{USERS_SIGN_OUT}")
    dash_duo.wait_for_contains_text(
        "#users-note", "left-signed-in is signed out everywhere (1 session ended).", timeout=10
    )
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center'})", USERS_SIGN_OUT
    )
    shot(dash_duo, "users-sign-out-everywhere")
    _says_the_session_ended(other_browser, base, "/tickets")
