"""In Chromium: a manager sees the low-stock warning in the app shell on any page, kept up to
date by the shell's interval, and follows it to the inventory; a technician never sees it."""

from __future__ import annotations

import time

import pytest
from browser import click, login, shot, sign_out, visit
from factories import WebApp
from services import free_port
from sqlalchemy import delete

from data.models import Part
from maintenance.stock.spare_parts import low_stock
from web.views.shell import LOW_STOCK

pytestmark = pytest.mark.e2e
WARNING = "#low-stock-warning"
_PARTS = ("SHELL-FUSE", "SHELL-BELT")


def _low_count(web: WebApp) -> int:
    with web.db.session() as s:
        return len(low_stock(s))


def _label(n: int) -> str:
    return f"Low stock: {n} part" + ("" if n == 1 else "s")


@pytest.fixture
def shell_parts(web: WebApp):
    def drop() -> None:
        with web.db.session() as s:
            s.execute(delete(Part).where(Part.number.in_(_PARTS)))

    drop()
    with web.db.session() as s:
        s.add(Part(number="SHELL-FUSE", name="Fuse 10 A", stock=0, min_stock=4))
    yield
    drop()


def test_manager_sees_low_stock_on_every_page_and_technician_does_not(
    dash_duo, web: WebApp, shell_parts
):
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    login(dash_duo, web, "manager")
    visit(dash_duo, "/alarms")
    dash_duo.wait_for_contains_text(WARNING, _label(_low_count(web)), timeout=15)
    shot(dash_duo, "shell-low-stock")

    with web.db.session() as s:  # one more runs low: the next tick shows it, no reload
        s.add(Part(number="SHELL-BELT", name="V-belt SPA 1250", stock=1, min_stock=1))
    dash_duo.wait_for_contains_text(WARNING, _label(_low_count(web)), timeout=15)
    assert "SHELL-BELT" in dash_duo.find_element(WARNING).text

    click(dash_duo, f"{WARNING} a[href='/parts']")
    dash_duo.wait_for_contains_text(
        "#parts-low-alert", "SHELL-FUSE (0 pcs left, min 4)", timeout=15
    )
    assert dash_duo.driver.current_url.endswith("/parts")

    sign_out(dash_duo)
    login(dash_duo, web, "technician")
    visit(dash_duo, "/alarms")
    dash_duo.wait_for_element(f"#{LOW_STOCK}", timeout=15)
    time.sleep(4)  # more than one shell tick (3 s): the warning had its chance to appear
    assert dash_duo.find_elements(WARNING) == []
    shot(dash_duo, "shell-low-stock-technician")
