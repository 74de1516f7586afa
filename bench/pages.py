"""Pages in a real browser: headless Chromium through every page as each role.

    python -m bench.pages              # every page × every role × 3 loads, then interactions
    python -m bench.pages --repeat 1   # one load each: about two minutes

It builds the real web app on a throwaway SQLite database (the demo fleet, one day of
readings per machine every minute, an open ticket with its alarm), serves it with waitress
as ``python app.py web`` does, and drives headless Chromium (bench/page_tour.py):

* **settled after navigation**: a page opened by URL (a full load, browser cache warm: each
  role's session first loads the fleet page twice, untimed in the rows: measured alone, a
  new session's second load often took a second more in the browser, presumably V8 filling
  its code cache with the shared scripts) until
  the page is drawn and no callback has been pending for 100 ms; the moment it went quiet,
  read in the page from ``performance.now()`` (a script installed before each load polls
  every 5 ms);
* **where the time goes**, from the browser's resource timing up to that moment: *server* is
  the time any request waited for its first byte (the page's HTML, ``_dash-layout``,
  ``_dash-dependencies``, every ``_dash-update-component``); *transfer* the rest of the time
  something was on the wire; *browser* what is left: script, React, Plotly, layout, paint;
* **interactions**: a click that runs callbacks (range buttons, filters, tabs), from the click
  to quiet again, measured in the page.

Baseline in the same run: the frame alone (the no-access page: menu, banner, no page
content), which every page pays. Prints the tables and writes them with the command to
docs/benchmarks.md (``--no-docs`` to skip). Targets (1.5 s p95 settled, 500 ms p95 per
interaction) are reported, never asserted.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config import load_settings
from data.db import Database, upgrade_schema
from data.fleet_queries import sensor_directory
from data.models import Alarm, AlarmSource, Priority, Role, Severity, User
from data.readings import insert_readings

from .page_tour import ROLES, TourPage, chrome, pages, sign_in
from .report import code_version, write_run

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
PASSWORD = "bench-pages-pw-1"
SETTLED_TARGET_MS, INTERACTION_TARGET_MS = 1500, 500

# Installed before every document: records when the page first stayed quiet for 100 ms.
_WATCH = """
(() => {
  const busy = () => {
    const c = (window.store && window.store.getState().callbacks) || {};
    return ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed']
      .some(k => c[k] && c[k].length);
  };
  const ready = () => !!(window.store && document.querySelector('#_pages_content > *'))
    && !busy();
  let quietSince = null;
  const tick = () => {
    const now = performance.now();
    if (ready()) {
      if (quietSince === null) quietSince = now;
      if (now - quietSince >= 100) { window.__pdmSettled = quietSince; return; }
    } else quietSince = null;
    if (now < 60000) setTimeout(tick, 5);
  };
  tick();
})();
"""

_BREAKDOWN = r"""
const T = window.__pdmSettled;
const union = (spans) => {
  spans = spans.filter(s => s[1] > s[0]).map(s => [s[0], Math.min(s[1], T)])
    .sort((a, b) => a[0] - b[0]);
  let total = 0, end = -1;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end); end = b;
  }
  return total;
};
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource').filter(r => r.startTime < T);
const dash = res.filter(r => /\/_dash-(layout|dependencies|update-component)/.test(r.name));
const waiting = [[nav.requestStart, nav.responseStart]].concat(
  dash.map(r => [r.requestStart || r.startTime, r.responseStart || r.responseEnd]));
const wire = [[nav.startTime, nav.responseEnd]].concat(res.map(r => [r.startTime, r.responseEnd]));
const server = union(waiting), busy = union(wire);
return {
  settled: T, server: server, transfer: busy - server, browser: T - busy,
  callbacks: dash.filter(r => r.name.includes('_dash-update-component')).length,
  kb: (nav.transferSize + res.reduce((n, r) => n + (r.transferSize || 0), 0)) / 1024,
};
"""

_INTERACT = """
const [target, choice, index] = [arguments[0], arguments[1], arguments[2]];
const done = arguments[arguments.length - 1];
const busy = () => {
  const c = (window.store && window.store.getState().callbacks) || {};
  return ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed']
    .some(k => c[k] && c[k].length);
};
const t0 = performance.now();
const el = document.querySelectorAll(target)[index];
if (!el) return done(-1);
if (choice === null) el.click();
else {  // a select: the value set as React expects it, then its change event
  Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, choice);
  el.dispatchEvent(new Event('change', {bubbles: true}));
}
let seen = false, quietSince = null;
const tick = () => {
  const now = performance.now();
  if (busy()) { seen = true; quietSince = null; }
  else if (quietSince === null) quietSince = now;
  if ((seen || now - t0 > 300) && quietSince !== null && now - quietSince >= 100)
    return done(quietSince - t0);
  if (now - t0 > 20000) return done(-1);
  setTimeout(tick, 2);
};
tick();
"""


def _radio(component_id: str, value: str) -> str:
    return f"label[for='_dbcprivate_radioitems_{component_id}_input_{value}']"


@dataclass(frozen=True, slots=True)
class Interaction:
    path: str
    what: str
    click: str  # a CSS selector: clicked, or a select whose value is set to ``choice``
    choice: str | None = None
    index: int = 0  # which of the elements the selector finds


INTERACTIONS = (
    Interaction("/", "fleet: filter by type", "#fleet-type", "motor"),
    Interaction("/machine/motor-01", "machine: range 1 day", _radio("machine-range", "1d")),
    Interaction("/machine/motor-01", "machine: range 7 days", _radio("machine-range", "7d")),
    Interaction("/alarms", "alarms: range 30 days", _radio("alarms-range", "30")),
    Interaction("/reports", "reports: last week", _radio("report-preset", "last-week")),
    Interaction("/lab", "lab: Tune tab", "#lab-tabs a.nav-link", index=1),
)


@dataclass(slots=True)
class Load:
    settled: float
    server: float
    transfer: float
    browser: float
    callbacks: int
    kb: float


@dataclass(slots=True)
class Results:
    loads: dict[str, list[Load]] = field(default_factory=lambda: defaultdict(list))
    interactions: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    floor: list[Load] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)
    cold: dict[str, list[float]] = field(default_factory=dict)  # role -> its first loads of /
    # every timed load: (role, page, which load of that page for that role, the load)
    seen: list[tuple[str, str, int, Load]] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


def seed(db: Database) -> dict[str, str]:
    """One day of readings per machine every minute, an open ticket with its alarm; the
    sample values for the pages' path templates."""
    from maintenance.ticketing.ticket_flow import open_ticket

    end = datetime.now(UTC).replace(microsecond=0)
    typical = {"temperature": 55.0, "vibration": 1.8, "rpm": 1480.0}
    with db.session() as s:
        rows = [
            (sid, end - timedelta(minutes=i), typical[kind] * (1 + 0.02 * math.sin(i / 17)))
            for (_machine, kind), sid in sensor_directory(session=s).items()
            if kind in typical
            for i in range(24 * 60)
        ]
        insert_readings(session=s, rows=rows)
        tech = s.query(User).filter(User.username == "technician").one()
        ticket = open_ticket(
            session=s, machine_id=1, code="VIB_HIGH", title="vibration", priority=Priority.HIGH
        )
        ticket.technician_id = tech.id
        s.add(
            Alarm(
                machine_id=1,
                code="VIB_HIGH",
                severity=Severity.WARNING,
                source=AlarmSource.RULE,
                message="motor-01: vibration above warning limit",
                value=4.1,
                ticket_id=ticket.id,
                raised_at=end - timedelta(minutes=5),
                last_seen_at=end,
            )
        )
        s.flush()
        return {"name": "motor-01", "ticket_id": str(ticket.id)}


def serve(tmp: Path) -> tuple[str, dict[str, str]]:
    """The real app on waitress in a thread; its base URL and the path samples."""
    from waitress import create_server

    from maintenance.ops.demo_seed import seed_demo
    from web.server.factory import create_app
    from web.server.readiness import web_readiness

    passwords = {f"{r.value}_password": PASSWORD for r in ROLES}
    settings = load_settings(var_dir=tmp / "var", demo_machines=6, secret_key="b" * 40, **passwords)
    db = Database(settings.effective_database_url)
    upgrade_schema(db.engine)
    seed_demo(settings, db)
    samples = seed(db)
    app = create_app(settings, db, web_readiness(settings, db))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", samples


def _load(driver: Any, url: str) -> Load | None:
    driver.get(url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if driver.execute_script("return window.__pdmSettled !== undefined"):
            return Load(**driver.execute_script(_BREAKDOWN))
        time.sleep(0.05)
    return None


def _interact(driver: Any, base: str, step: Interaction, repeat: int) -> list[float]:
    took = []
    for _ in range(repeat):
        if _load(driver, base + step.path) is None:
            continue
        ms = driver.execute_async_script(_INTERACT, step.click, step.choice, step.index)
        if ms < 0:  # no such control, or never quiet within 20 s
            raise RuntimeError(f"{step.what}: {step.click} not found or never settled")
        took.append(ms)
    return took


def run(repeat: int, roles: tuple[Role, ...]) -> Results:
    results = Results()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        base, samples = serve(Path(tmp))
        tour = pages(samples)
        for role in roles:
            driver = chrome()
            driver.set_script_timeout(30)
            try:
                driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH})
                sign_in(driver, base, role.value, PASSWORD)
                # warm the browser: its cache holds the scripts every page shares after the
                # first load, and the second often took ~1 s more in the browser (presumably
                # V8 filling its code cache); timed, printed, not in the pages' rows
                warm = [_load(driver, base + "/") for _ in range(2)]
                results.cold[role.value] = [w.settled for w in warm if w is not None]
                for page in tour:
                    for nth in range(repeat if page.allows(role) else 1):
                        load = _load(driver, base + page.path)
                        if load is None:
                            results.unsettled.append(f"{role.value} {page.path}")
                        elif page.allows(role):
                            results.loads[_label(page)].append(load)
                            results.seen.append((role.value, page.path, nth + 1, load))
                        else:
                            results.floor.append(load)
                for step in INTERACTIONS:
                    if any(p.path == step.path and p.allows(role) for p in tour):
                        results.interactions[step.what] += _interact(driver, base, step, repeat)
            finally:
                driver.quit()
            print(f"  {role.value}: done", file=sys.stderr, flush=True)
    return results


def _label(page: TourPage) -> str:
    return f"{page.name} (`{page.path}`)"


def render(r: Results) -> str:
    def ms(v: float) -> str:
        return f"{v:,.0f}"

    lines = [
        "| page | loads | settled p50 ms | settled p95 ms | server p50 | transfer p50 | "
        "browser p50 | callbacks | KB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    rows = sorted(r.loads.items(), key=lambda kv: -pct([x.settled for x in kv[1]], 95))
    if r.floor:
        rows.append(("**baseline: the frame alone** (no-access page)", r.floor))
    for name, loads in rows:
        settled = [x.settled for x in loads]
        lines.append(
            f"| {name} | {len(loads)} | {ms(pct(settled, 50))} | {ms(pct(settled, 95))} | "
            f"{ms(pct([x.server for x in loads], 50))} | "
            f"{ms(pct([x.transfer for x in loads], 50))} | "
            f"{ms(pct([x.browser for x in loads], 50))} | "
            f"{pct([float(x.callbacks) for x in loads], 50):.0f} | "
            f"{pct([x.kb for x in loads], 50):,.0f} |"
        )
    lines += ["", "| interaction | samples | p50 ms | p95 ms |", "| --- | ---: | ---: | ---: |"]
    for what, took in r.interactions.items():
        lines.append(f"| {what} | {len(took)} | {ms(pct(took, 50))} | {ms(pct(took, 95))} |")
    every = [x.settled for loads in r.loads.values() for x in loads]
    clicks = [t for took in r.interactions.values() for t in took]
    lines += [
        "",
        f"All pages: settled p95 {ms(pct(every, 95))} ms (target ≤ {SETTLED_TARGET_MS:,}); "
        f"interactions p95 {ms(pct(clicks, 95))} ms (target ≤ {INTERACTION_TARGET_MS}).",
    ]
    over = [
        name
        for name, loads in rows[: len(r.loads)]
        if pct([x.settled for x in loads], 95) > SETTLED_TARGET_MS
    ]
    lines.append(
        f"Pages whose own p95 is over {SETTLED_TARGET_MS:,} ms: "
        + (", ".join(over) if over else "none")
        + ". Slowest loads: "
        + "; ".join(
            f"{ms(x.settled)} ms {path} as {role} (load {nth}: server {ms(x.server)}, transfer "
            f"{ms(x.transfer)}, browser {ms(x.browser)})"
            for role, path, nth, x in sorted(r.seen, key=lambda s: -s[3].settled)[:5]
        )
        + "."
    )
    if r.cold:
        firsts = "; ".join(f"{role} {', '.join(map(ms, t))}" for role, t in r.cold.items())
        lines.append(
            "A new browser session's first two loads of the fleet page (cold caches; the "
            f"rows above start after them), ms: {firsts}."
        )
    if r.unsettled:
        lines.append(f"Never settled within 30 s: {', '.join(r.unsettled)}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="loads per page and role (default 3)")
    p.add_argument("--roles", nargs="*", choices=[r.value for r in ROLES], help="default: all")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = p.parse_args(argv)
    roles = tuple(Role(r) for r in args.roles) if args.roles else ROLES
    results = run(args.repeat, roles)
    table = render(results)
    print(table)
    if not args.no_docs:
        command = " ".join(["python -m bench.pages", shlex.join(argv or sys.argv[1:])]).strip()
        write_run(DOCS, section="pages", command=command, code=code_version(REPO), body=[table])


if __name__ == "__main__":
    main()
