"""Helpers for the Chromium tests: log in, seed readings, find pattern-matched ids, screenshots."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from factories import WebApp, wait_until

from data.fleet_queries import sensor_directory
from data.readings import insert_readings

SHOTS = Path(__file__).resolve().parents[1] / "screenshots"


def shot(dash_duo: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(SHOTS / f"{name}.png"))


def login(dash_duo: Any, web: WebApp, user: str) -> None:
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + "/login")
    dash_duo.wait_for_element("#username").send_keys(user)
    dash_duo.find_element("#password").send_keys(web.password(user))
    dash_duo.find_element("#login-submit").click()
    # logged in once the app shell greets the user (before that, a new page load would
    # race the login redirect)
    dash_duo.wait_for_contains_text("#nav-user", f"{user} (", timeout=15)


def sign_in_at(browser: Any, base: str, name: str, password: str) -> None:
    """Sign ``name`` in through the form in ``browser`` (a second Chromium, at ``base``)."""
    browser.driver.get(base + "/login")
    browser.wait_for_element("#username").send_keys(name)
    browser.find_element("#password").send_keys(password)
    browser.find_element("#login-submit").click()
    browser.wait_for_contains_text("#nav-user", f"{name} (", timeout=15)


def sign_out(dash_duo: Any) -> None:
    """The menu's Sign out button (a form POST to /logout), then the sign-in page."""
    dash_duo.wait_for_element("#sign-out")
    click(dash_duo, "#sign-out")  # the page may be scrolled down: the menu is at the top
    dash_duo.wait_for_element("#username", timeout=15)


def visit(dash_duo: Any, path: str) -> None:
    dash_duo.driver.get(dash_duo.server.url.rstrip("/") + path)


def pattern(component_id: dict[str, object]) -> str:
    """A CSS selector for a pattern-matching id (Dash renders it as sorted compact JSON)."""
    return "[id='" + json.dumps(component_id, sort_keys=True, separators=(",", ":")) + "']"


def readings(
    web: WebApp,
    machine: str,
    values: dict[str, float],
    seconds: int,
    end: float | None = None,
    step: int = 1,
) -> None:
    """One reading per ``step`` seconds per sensor of ``machine`` for ``seconds`` up to ``end``."""
    end = time.time() if end is None else end
    with web.db.session() as s:
        sensors = {k: sid for (m, k), sid in sensor_directory(session=s).items() if m == machine}
        rows = [
            (sensors[key], datetime.fromtimestamp(end - i, UTC), value + (i % 7) * 0.01)
            for key, value in values.items()
            for i in range(0, seconds, step)
        ]
        insert_readings(session=s, rows=rows)


def graph_data(dash_duo: Any, graph_id: str) -> list[dict[str, Any]]:
    """The traces a dcc.Graph currently draws (x as strings, y as numbers)."""
    return dash_duo.driver.execute_script(
        "const g = document.getElementById(arguments[0]);"
        "const p = g && g.querySelector('.js-plotly-plot');"
        "return p ? p.data.map(t => ({name: t.name, x: Array.from(t.x || []).map(String),"
        " y: Array.from(t.y || [])})) : null;",
        graph_id,
    )


def browser_session(dash_duo: Any) -> requests.Session:
    """A requests session carrying the browser's login cookie and user agent (the session
    is bound to both: flask-login's strong protection): for downloads."""
    session = requests.Session()
    session.headers["User-Agent"] = dash_duo.driver.execute_script("return navigator.userAgent")
    for cookie in dash_duo.driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def texts(dash_duo: Any, selector: str) -> list[str]:
    """Text of every element matching ``selector``, read in one go (no stale elements
    while Dash re-renders)."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent);",
        selector,
    )


def click(dash_duo: Any, selector: str) -> None:
    """Scroll the element to the middle of the window (at once: Bootstrap scrolls smoothly),
    then click it like a user."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def eventually(predicate: Any, timeout: float = 15.0) -> None:
    """Assert that ``predicate`` comes true within ``timeout`` (the page updates a moment
    after the server answers)."""
    assert wait_until(predicate, timeout=timeout, interval=0.2), "condition not met in time"


def grid_row(dash_duo: Any, grid_id: str, row_id: object, timeout: float = 15.0) -> Any:
    """An AG Grid row by its id, scrolled into view: the grid draws only the rows near its
    viewport, so a row far down a long grid is not in the page until the grid scrolls."""
    selector = f"#{grid_id} div[row-id='{row_id}']"
    viewport = f"#{grid_id} .ag-body-viewport"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = dash_duo.driver.find_elements("css selector", selector)
        if found:
            return found[0]
        dash_duo.driver.execute_script(
            "const v = document.querySelector(arguments[0]); if (v) v.scrollTop += 120;",
            viewport,
        )
        time.sleep(0.2)
    raise AssertionError(f"no row {row_id} in #{grid_id} within {timeout:g} s")


def click_grid_cell(
    dash_duo: Any, grid_id: str, row_id: object, col_id: str, timeout: float = 15.0
) -> None:
    """Click a cell of an AG Grid row (``grid_row``). The grid redraws its rows when its data
    arrives or changes (another test's user, the page's own refresh), which leaves a row found
    a moment ago detached from the page: find it again and click the new one."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        row = grid_row(dash_duo, grid_id, row_id, timeout=max(0.1, deadline - time.monotonic()))
        try:
            row.find_element("css selector", f"[col-id='{col_id}']").click()
            return
        except StaleElementReferenceException:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
