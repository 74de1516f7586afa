"""In Chromium: a refused request says so on the page. A manager's role is lowered to viewer
by an admin while the parts page is open; clicking "New part" is refused on the server and
the page shows "Your role may not do this." at its top, with nothing changed. A manager
typing a stock too big for its field is told the value was not accepted, and no part is
saved. (Both answers are 200 with the shell's alert: Dash's renderer shows nothing of a
4xx; web/server/refusals.py.)"""

from __future__ import annotations

import pytest
from browser import click, eventually, login, shot, sign_in_at, texts, visit
from factories import WebApp, add_user, count
from services import free_port
from sqlalchemy import select

from data.models import AuditLog, Part, Role, User
from maintenance.people.user_admin import update_user
from web.views.parts import (
    PARTS_GRID,
    PARTS_NAME,
    PARTS_NEW,
    PARTS_NUMBER,
    PARTS_SAVE,
    PARTS_STOCK,
    PARTS_UNIT,
)
from web.views.shell import NAV_USER, REFUSAL

pytestmark = pytest.mark.e2e
PASSWORD = "lowered-role-pw-1"


def _console(browser) -> list[dict]:  # noqa: ANN001
    return [e for e in browser.get_logs() or [] if e.get("level") in ("SEVERE", "WARNING")]


def _shown(dash_duo) -> list[str]:  # noqa: ANN001
    """The refusal alert's text, if it is open (a closed dbc.Alert leaves nothing drawn)."""
    return [t for t in texts(dash_duo, f"#{REFUSAL}") if t.strip()]


def test_a_role_lowered_while_the_page_is_open_is_refused_on_the_page(dash_duo, web: WebApp):
    user = add_user(web.db, "lowered-manager", Role.MANAGER, password=PASSWORD)
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    sign_in_at(dash_duo, dash_duo.server.url.rstrip("/"), "lowered-manager", PASSWORD)
    visit(dash_duo, "/parts")
    dash_duo.wait_for_element(f"#{PARTS_NAME}", timeout=15).send_keys("typed before the change")
    assert _shown(dash_duo) == []
    assert _console(dash_duo) == []
    with web.db.session() as s:  # an admin lowers the role on the users page meanwhile
        admin = s.scalar(select(User.id).where(User.username == "admin"))
        update_user(
            session=s,
            actor_id=admin,
            user_id=user,
            role="viewer",
            email="",
            skills=[],
            shift_start=None,
            shift_end=None,
        )
    changes = count(web.db, AuditLog)
    click(dash_duo, f"#{PARTS_NEW}")  # the viewer may not open the part editor
    dash_duo.wait_for_contains_text(f"#{REFUSAL}", "Your role may not do this.", timeout=15)
    alert = dash_duo.find_element(f"#{REFUSAL}")
    nav = dash_duo.find_element(f"#{NAV_USER}")
    assert alert.is_displayed() and alert.location["y"] > nav.location["y"]
    assert alert.location["y"] < dash_duo.find_element(f"#{PARTS_GRID}").location["y"]
    # nothing changed: the form keeps what was typed (the editor was not reset), no record
    name = dash_duo.find_element(f"#{PARTS_NAME}").get_attribute("value")
    assert name == "typed before the change"
    assert count(web.db, AuditLog) == changes
    shot(dash_duo, "refusal-role-lowered")
    assert _console(dash_duo) == []  # a 200: no failed request, no renderer error
    dash_duo.find_element(f"#{REFUSAL} .btn-close").click()  # the user may dismiss it
    dash_duo.wait_for_no_elements(f"#{REFUSAL}", timeout=5)
    # the menu bar says the role the user has now, at the frame's next tick
    dash_duo.wait_for_contains_text(f"#{NAV_USER}", "(viewer)", timeout=15)


def test_a_number_too_big_for_its_field_is_refused_on_the_page(dash_duo, web: WebApp):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "manager")
    visit(dash_duo, "/parts")
    dash_duo.wait_for_element(f"#{PARTS_NUMBER}").send_keys("E2E-HUGE")
    dash_duo.find_element(f"#{PARTS_NAME}").send_keys("Too many bearings")
    dash_duo.find_element(f"#{PARTS_STOCK}").send_keys("99999999999")  # over 2**31 - 1
    assert dash_duo.find_element(f"#{PARTS_UNIT}").get_attribute("value") == "pcs"
    parts, changes = count(web.db, Part), count(web.db, AuditLog)
    click(dash_duo, f"#{PARTS_SAVE}")
    dash_duo.wait_for_contains_text(
        f"#{REFUSAL}",
        f"Not accepted: {PARTS_STOCK}.value is not a number up to 2147483647.",
        timeout=15,
    )
    shot(dash_duo, "refusal-bad-input")
    with web.db.session() as s:
        assert s.scalar(select(Part.id).where(Part.number == "E2E-HUGE")) is None
    assert count(web.db, Part) == parts and count(web.db, AuditLog) == changes
    assert _console(dash_duo) == []
    click(dash_duo, "a.nav-link[href='/plans']")  # the message belongs to its page
    dash_duo.wait_for_element("#plans-grid", timeout=15)
    eventually(lambda: _shown(dash_duo) == [], timeout=10)
    assert _console(dash_duo) == []
