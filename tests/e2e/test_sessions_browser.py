"""In Chromium: a user signed in at two desks sees both sessions on the account page (reached
from their name in the menu bar) and ends the other one; the other browser's page then says
that its session has ended. A callback the server refuses shows its message on the page."""

from __future__ import annotations

import json

import pytest
from browser import click, login, pattern, shot, sign_in_at, texts, visit
from dash_requests import filled_body
from factories import WebApp, add_user
from services import free_port
from sqlalchemy import select

from data.models import Role, UserSession
from web.views.account import ACCOUNT_FEEDBACK, ACCOUNT_SESSIONS, end_button
from web.views.admin_users import USERS_EDIT_TITLE, USERS_GRID, USERS_SIGN_OUT
from web.views.shell import NAV_USER

pytestmark = pytest.mark.e2e
PASSWORD = "two-desks-pw-1"


def _severe(browser) -> list[dict]:  # noqa: ANN001
    return [e for e in browser.get_logs() or [] if e.get("level") in ("SEVERE", "WARNING")]


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
    other_browser.wait_for_contains_text("#callback-refusals", "Your session has ended", timeout=15)
    link = other_browser.find_element("#callback-refusals a")
    assert link.get_attribute("href").startswith(base + "/login?next=")
    shot(other_browser, "account-session-ended")
    other_browser.driver.get(base + "/tickets")
    other_browser.wait_for_element("#username", timeout=15)  # the sign-in page


def test_a_refused_callback_says_why_on_the_page(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "viewer")
    visit(dash_duo, "/account")
    dash_duo.wait_for_contains_text(f"#{ACCOUNT_SESSIONS}", "this browser", timeout=15)
    # the renderer's own request for a callback a viewer may not run (the settings table)
    key = next(k for k in web.app.callback_map if "settings-table.children" in k)
    body = filled_body(key, web.app.callback_map[key], lambda _c, _p: 1, lambda _t, _k: 1)
    status = dash_duo.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type':"
        " 'application/json'}, body: arguments[0]}).then(r => done(r.status));",
        json.dumps(body),
    )
    assert status == 403
    dash_duo.wait_for_contains_text("#callback-refusals", "Your role may not do this.", timeout=10)
    assert dash_duo.find_element("#callback-refusals .alert").get_attribute("data-status") == "403"
    shot(dash_duo, "callback-refused")


def test_an_admin_signs_a_user_out_everywhere_from_the_users_page(
    dash_duo, web: WebApp, other_browser
):
    user = add_user(web.db, "left-signed-in", Role.TECHNICIAN, password=PASSWORD)
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    sign_in_at(other_browser, base, "left-signed-in", PASSWORD)
    login(dash_duo, web, "admin")
    visit(dash_duo, "/admin/users")
    row = f"#{USERS_GRID} div[row-id='{user}']"
    dash_duo.wait_for_element(f"{row} [col-id='username']", timeout=15).click()
    dash_duo.wait_for_text_to_equal(f"#{USERS_EDIT_TITLE}", "left-signed-in (technician)")
    click(dash_duo, f"#{USERS_SIGN_OUT}")
    dash_duo.wait_for_contains_text(
        "#users-note", "left-signed-in is signed out everywhere (1 session ended).", timeout=10
    )
    dash_duo.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView({block: 'center'})", USERS_SIGN_OUT
    )
    shot(dash_duo, "users-sign-out-everywhere")
    other_browser.wait_for_contains_text("#callback-refusals", "Your session has ended", timeout=15)
