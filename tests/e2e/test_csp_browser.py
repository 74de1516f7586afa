"""In Chromium, under the app's Content-Security-Policy without 'unsafe-eval': every page an
admin may open, with data in its graphs and grids (readings, an alarm, a ticket), draws its
Plotly figures and AG Grid rows and leaves no Content-Security-Policy violation (nor any
other error or warning) in the console. The control at the end shows that the console does
report an eval this policy refuses, so an empty console means no script needed one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from browser import readings
from factories import WebApp, clear_tickets
from services import free_port

from bench.page_tour import chrome, console_problems, pages, sign_in, wait_settled
from data.models import Priority
from maintenance.alarming.threshold_rules import evaluate_rules
from maintenance.ticketing.ticket_flow import open_ticket

pytestmark = pytest.mark.e2e
HEALTHY = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}
# the pages whose figures must be drawn (dcc.Graph runs the Plotly.js the app serves)
GRAPH_PAGES = ("/", "/machine/motor-01")


def _seed(web: WebApp) -> int:
    with web.db.session() as s:
        clear_tickets(s)
    for machine in ("motor-01", "pump-01", "compressor-01"):
        readings(web, machine, HEALTHY, seconds=120)
    readings(web, "pump-01", {"vibration": 9.0}, seconds=5, end=time.time() + 5)
    with web.db.session() as s:  # an alarm for the alarms grid's styled cells
        evaluate_rules(
            session=s,
            now=datetime.now(UTC) + timedelta(seconds=5),
            window=timedelta(seconds=3),
            clear_after=timedelta(seconds=60),
        )
        return open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="shaking", priority=Priority.HIGH
        ).id


def test_no_page_needs_unsafe_eval(dash_duo, web: WebApp):
    ticket_id = _seed(web)
    dash_duo.start_server(web.app, navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    policy = requests.get(base + "/login", timeout=10).headers["Content-Security-Policy"]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src "))
    assert "'unsafe-eval'" not in script_src and "'unsafe-inline'" not in script_src
    tour = pages({"name": "motor-01", "ticket_id": str(ticket_id)})
    driver = chrome()
    problems, drawn, rows = [], {}, {}
    try:
        sign_in(driver, base, "admin", web.password("admin"))
        console_problems(driver)
        expect_figures = {*GRAPH_PAGES, f"/ticket/{ticket_id}"}
        for page in tour:
            driver.get(base + page.path)
            assert wait_settled(driver, timeout=30), page.path
            # Plotly and the grid draw after the callbacks settle: wait for what must come
            if page.path in expect_figures:
                _wait_for(driver, ".js-plotly-plot .main-svg")
            if page.path in ("/alarms", "/admin/users"):
                _wait_for(driver, ".ag-row")
            drawn[page.path] = len(
                driver.find_elements("css selector", ".js-plotly-plot .main-svg")
            )
            rows[page.path] = len(driver.find_elements("css selector", ".ag-row"))
            problems += [(page.path, e["message"][:300]) for e in console_problems(driver)]
        assert problems == [], "\n".join(map(str, problems))
        for path in expect_figures:
            assert drawn[path] > 0, (path, drawn)
        assert sum(1 for n in drawn.values() if n) >= 5, drawn  # fleet, machine, ticket, …
        assert rows["/alarms"] > 0 and rows["/admin/users"] > 0, rows

        # the control: a string evaluated as code is refused, and the console says so
        driver.execute_script("window.setTimeout('window.evaluated = true', 0)")
        time.sleep(0.5)
        assert driver.execute_script("return window.evaluated === undefined")
        refused = [e["message"] for e in console_problems(driver)]
        assert any("unsafe-eval" in m for m in refused), refused
    finally:
        driver.quit()


def _wait_for(driver, selector: str, timeout: float = 30.0) -> None:
    """Until an element matching ``selector`` is drawn (the assertions then count them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not driver.find_elements("css selector", selector):
        time.sleep(0.1)
