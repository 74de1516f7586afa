"""Dashboard benchmark: the manager's pages against months of history on PostgreSQL.

    python -m bench.dashboard            # 20 machines × 30 days at 10 s (15.5 M readings)
    python -m bench.dashboard --quick    # 20 machines × 3 days; under two minutes

It starts a throwaway PostgreSQL (tests/services.py), or uses ``--database-url``; seeds it
with ``worker.backfill`` (history for ``--machines`` machines, then a short recent
history for ``--overview-machines``, all in one database), and builds the real web app.
A Flask test client logged in as a manager posts to ``/_dash-update-component`` as the
browser does; each request's server time covers the role check, the queries, the figure
and Dash's JSON. Measured, after warm-ups, machine after machine:

1. the machine page's ``draw`` for 1 hour, 1 day and 30 days, and its live tick;
2. the fleet overview's ``build`` for every machine, and its live tick for every tile;
3. a naive baseline in the same run: fetch every row of the range, plot every point.

It prints the table, writes it with the command to docs/benchmarks.md (runs on the
throwaway database only), and ends with one line of JSON. Targets are reported, never
asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from data.db import Database
from web.views.machine import RANGES as SPANS

from .dashboard_app import (
    Endpoint,
    LiveFeed,
    SensorRef,
    seed,
    sensors_of,
    vacuum_analyze,
    web_client,
)
from .dashboard_measure import (
    fleet_ticks,
    history,
    machine_sensors,
    machine_ticks,
    naive_history,
    overview,
    peak_rss_mb,
)
from .dashboard_report import DashResults, render, summary_json, update_docs
from .report import code_version
from .servers import REPO, PostgresServer

__all__ = ["Sizes", "main"]

log = logging.getLogger("bench.dashboard")

RANGES = ("1h", "1d", "30d")


@dataclass(frozen=True, slots=True)
class Sizes:
    machines: int  # with long history: the machine page cycles through them
    days: float
    overview_machines: int  # with recent history: the fleet page shows them all
    overview_minutes: float
    repeat: int


FULL = Sizes(machines=20, days=30, overview_machines=200, overview_minutes=60, repeat=25)
QUICK = Sizes(machines=20, days=3, overview_machines=200, overview_minutes=20, repeat=10)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.dashboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small data: under two minutes")
    p.add_argument("--machines", type=int, help="machines with long history (default 20)")
    p.add_argument("--days", type=float, help="their history (default 30, quick 3)")
    p.add_argument("--overview-machines", type=int, help="machines on the fleet page (200)")
    p.add_argument("--repeat", type=int, help="timed requests per measurement (25, quick 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed requests first (default 2)")
    p.add_argument(
        "--database-url",
        help="measure this PostgreSQL database (postgresql+psycopg://…) instead of a "
        "throwaway one; it gets a bench-manager account and fresh readings for the live ticks",
    )
    p.add_argument("--no-seed", action="store_true", help="measure the data already there")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while seeding")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = p.parse_args(argv)
    if args.database_url and not args.database_url.startswith("postgresql"):
        p.error("--database-url must be a PostgreSQL URL (postgresql+psycopg://…)")
    if args.no_seed and not args.database_url:
        p.error("--no-seed needs --database-url (the throwaway database starts empty)")
    return args


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else FULL
    return Sizes(
        machines=args.machines or base.machines,
        days=args.days or base.days,
        overview_machines=args.overview_machines or base.overview_machines,
        overview_minutes=base.overview_minutes,
        repeat=args.repeat or base.repeat,
    )


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given database, or a fresh one on a throwaway PostgreSQL that always stops."""
    if url:
        yield url
        return
    pg = PostgresServer()
    try:
        pg.start()
        log.info("PostgreSQL on port %d (fsync off), in %s", pg.port, pg.dir)
        yield pg.new_database()
    finally:
        pg.stop()
        log.info("PostgreSQL stopped")


def seed_all(url: str, sizes: Sizes, r: DashResults, progress: bool) -> None:
    """Long history for a few machines, then recent history for the whole fleet (the
    machines that have it already only get the minutes since)."""
    for machines, days in (
        (sizes.machines, sizes.days),
        (sizes.overview_machines, sizes.overview_minutes / 1440),
    ):
        log.info("seeding %d machines × %g days", machines, days)
        r.seeded.append(seed(url, machines=machines, days=days, progress=progress))
    r.vacuum_s = vacuum_analyze(url)
    log.info("seeded; VACUUM (ANALYZE) took %.1fs", r.vacuum_s)


def measure(db: Database, url: str, sizes: Sizes, warmup: int, r: DashResults) -> None:
    """Every measurement in turn; the naive baseline last, so it cannot inflate the
    dashboard's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="pdm-bench-dash-") as var_dir:
        endpoint = web_client(db, url, Path(var_dir))
        sensors = sensors_of(db)
        names = list(dict.fromkeys(s.machine for s in sensors))[: sizes.machines]
        _dashboard(endpoint, db, sensors, names, sizes.repeat, warmup, r)
        r.rss_mb = peak_rss_mb()
        by_machine = machine_sensors(sensors)
        for key in RANGES:
            span = SPANS[key][1]
            r.naive[key] = naive_history(db, by_machine, names, span, sizes.repeat, warmup)
            log.info("naive %s: p95 %.1f ms", key, r.naive[key].timing.p95_ms)
        r.rss_naive_mb = peak_rss_mb()


def _dashboard(
    endpoint: Endpoint,
    db: Database,
    sensors: list[SensorRef],
    names: list[str],
    repeat: int,
    warmup: int,
    r: DashResults,
) -> None:
    for key in RANGES:
        r.history[key] = history(endpoint, names, key, repeat, warmup)
        log.info("draw %s: p95 %.1f ms", key, r.history[key].timing.p95_ms)
    feed = LiveFeed(db)
    first = [s for s in sensors if s.machine == names[0]]
    r.machine_tick = machine_ticks(endpoint, feed, first, "1h", repeat, warmup)
    r.overview, r.tiles, cursor = overview(endpoint, repeat, warmup)
    log.info("overview, %d tiles: p95 %.1f ms", r.tiles, r.overview.timing.p95_ms)
    r.fleet_tick = fleet_ticks(endpoint, feed, sensors, cursor, repeat, warmup)


def run(args: argparse.Namespace, command: str) -> DashResults:
    sizes = sizes_of(args)
    r = DashResults()
    r.settings = {
        "repeat": str(sizes.repeat),
        "warmup": str(args.warmup),
        "postgres": "given database" if args.database_url else "tests/services.py (fsync off)",
        "load average at start": f"{os.getloadavg()[0]:.2f}",
    }
    code = code_version(REPO)  # before the run: others may be editing the tree
    started = time.monotonic()
    with database(args.database_url) as url:
        if not args.no_seed:
            seed_all(url, sizes, r, progress=not args.no_progress)
        db = Database(url)
        try:
            measure(db, url, sizes, args.warmup, r)
        finally:
            db.dispose()
    r.settings["total seconds"] = f"{time.monotonic() - started:.0f}"
    log.info("done in %.0fs", time.monotonic() - started)
    if not args.no_docs and not args.database_url:
        section = "dashboard-quick" if args.quick else "dashboard-full"
        update_docs(args.docs, section=section, r=r, command=command, code=code)
    return r


def _interpreter() -> str:
    """This Python, relative to the repository when it lives there (.venv/bin/python)."""
    python = Path(sys.executable)
    return str(python.relative_to(REPO)) if python.is_relative_to(REPO) else str(python)


def _terminate(*_args: object) -> None:
    raise KeyboardInterrupt  # unwinds through every finally: PostgreSQL stops


def main(argv: list[str] | None = None) -> DashResults:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([_interpreter(), "-m", "bench.dashboard", *given])
    results = run(args, command)
    print(render(results))
    print(summary_json(results), flush=True)
    return results


if __name__ == "__main__":
    main()
