"""Every page as every role in headless Chromium: the pages to visit, a browser that keeps
its console, signing in, and "settled" (the page drawn and no callback pending).

Shared by ``python -m bench.pages`` (how long pages take) and the browser test that reads
the console on every page for every role (tests/e2e/test_console_browser.py)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import dash
from selenium import webdriver
from selenium.webdriver.chrome.options import Options

from data.models import Role
from maintenance.people.permissions import Action, allowed

__all__ = [
    "ROLES",
    "TourPage",
    "chrome",
    "console_problems",
    "pages",
    "sign_in",
    "wait_settled",
]

ROLES = (Role.ADMIN, Role.MANAGER, Role.ENGINEER, Role.TECHNICIAN, Role.VIEWER)

# Settled: Dash's store exists, the page container holds the page, and no callback is
# requested, waiting or running (dash-renderer's ``callbacks`` state, as dash.testing reads it)
_SETTLED = """
const s = window.store && window.store.getState();
if (!s || !document.querySelector('#_pages_content > *')) return false;
const c = s.callbacks || {};
return ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed']
    .every(k => !c[k] || c[k].length === 0);
"""


@dataclass(frozen=True, slots=True)
class TourPage:
    name: str
    path: str
    action: Action

    def allows(self, role: Role) -> bool:
        return allowed(role, self.action)


def pages(samples: dict[str, str]) -> list[TourPage]:
    """Every registered page (the app must be built), its path templates filled from
    ``samples`` (e.g. {"name": "motor-01", "ticket_id": "3"})."""
    found = []
    for page in dash.page_registry.values():
        path = page.get("path_template") or page["path"]
        path = re.sub(r"<([^>]+)>", lambda m: samples[m.group(1)], path)
        found.append(TourPage(page["name"], path, page["action"]))
    return sorted(found, key=lambda p: p.path)


def chrome(width: int = 1400, height: int = 900) -> webdriver.Chrome:
    """Headless Chromium that keeps every console line (warnings too, not only errors)."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        f"--window-size={width},{height}",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options)


def sign_in(driver: webdriver.Chrome, base: str, username: str, password: str) -> None:
    driver.get(base + "/login")
    driver.find_element("id", "username").send_keys(username)
    driver.find_element("id", "password").send_keys(password)
    driver.find_element("id", "login-submit").click()
    deadline = time.monotonic() + 20
    while "/login" in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.05)
    if "/login" in driver.current_url:
        raise RuntimeError(f"signing in as {username} failed")


def wait_settled(driver: webdriver.Chrome, timeout: float = 30.0, poll: float = 0.01) -> bool:
    """Wait until the page is drawn and no callback is pending; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script(_SETTLED):
            return True
        time.sleep(poll)
    return False


def console_problems(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """The console's errors and warnings since the last call (reading empties the log), and
    Chromium's advice on the page's markup (its "[DOM]" lines, e.g. a password field
    outside a form), which it logs at a lower level."""
    return [
        e
        for e in driver.get_log("browser")
        if e["level"] in ("SEVERE", "WARNING") or e.get("source") == "recommendation"
    ]
