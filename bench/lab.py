"""Model-lab benchmark: the tune and explore tabs on data made in the same run.

    python -m bench.lab            # 50k and 200k scored windows; 20 machines × 30 days on SQLite
    python -m bench.lab --quick    # 50k windows; 5 machines × 3 days; under a minute

1. Tuning (``ml.lab.tune``, ``callbacks/lab_tune.py``) on labelled histories made by
   ``tests/scored_sets.py`` (``synthetic_scored``) and kept on record as a finished backtest
   in a throwaway SQLite database: opening the tab (``tuning_view``: Parquet, the sweep over
   every slider position, the PR curve; then the callback's store), the compute alone, and
   one slider move (look-up, figure patches, cards, Dash's JSON); against the straightforward
   implementation at one threshold: ``ml.alarm_metrics.replay_alarms`` + ``alarm_metrics``.
2. Explore (``ml.lab.explore``, ``callbacks/lab_explore.py``, ``web/server/lab_export.py``) on a
   SQLite database filled by ``worker.backfill`` (one reading per sensor every 10 s, seed
   7) plus one scoring per machine every 5 s (what the live scorer writes): the ``draw``
   callback's work (explore, figures, Dash's JSON), four exports and one timeline tick, for
   1, 5, 20 machines × 1, 7, 30 days; against fetching the selection's raw readings with one
   plain query into pandas.

Each measurement: one untimed run under tracemalloc (its peak memory), then timed runs; p50
and p95 interpolate between ranks. It prints the tables (the block for docs/benchmarks.md)
and ends with one line of JSON. Targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shlex
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from data.db import Database, upgrade_schema

from .lab_measure import REPO, explore_cell, score_tick
from .lab_report import LabResults, Seeded, block, summary_json
from .lab_tune import tune_row

__all__ = ["FULL", "QUICK", "Sizes", "main", "run", "seed_sqlite"]

log = logging.getLogger("bench.lab")

END = datetime(2026, 1, 31, tzinfo=UTC)  # the seeded history ends here: reproducible data
SENSORS = ("temperature", "vibration", "rpm")
SCALE = {"model_step_s": 60.0, "time_scale": 1.0}  # a model step of one minute, real time
SCORE_EVERY_S = 5  # one scoring per machine every 5 s


@dataclass(frozen=True, slots=True)
class Sizes:
    tune: tuple[tuple[str, int, float], ...]  # (label, machines, days) of scored histories
    machines: tuple[int, ...]
    days: tuple[float, ...]
    repeat: int
    budget_s: float  # per measurement: fewer timed runs once past it


FULL = Sizes(
    tune=(("50k", 19, 10.0), ("200k", 75, 10.0)),
    machines=(1, 5, 20),
    days=(1, 7, 30),
    repeat=7,
    budget_s=5.0,
)
QUICK = Sizes(tune=(("50k", 19, 10.0),), machines=(1, 5), days=(1, 3), repeat=5, budget_s=1.0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.lab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small data: under a minute")
    p.add_argument("--repeat", type=int, help="timed runs per measurement (7, quick 5)")
    p.add_argument("--budget", type=float, help="seconds per measurement (5, quick 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while seeding")
    return p.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    base = QUICK if args.quick else FULL
    return Sizes(
        tune=base.tune,
        machines=base.machines,
        days=base.days,
        repeat=args.repeat or base.repeat,
        budget_s=args.budget or base.budget_s,
    )


def seed_sqlite(path: Path, *, machines: int, days: float, progress: bool) -> Seeded:
    """Backfill the demo fleet into a new SQLite file, then its scorings, in a fresh process:
    the generator's memory never counts in what is measured here."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_seed, str(path), machines, days, progress).result()


def _seed(path: str, machines: int, days: float, progress: bool) -> Seeded:
    from maintenance.people.accounts import ensure_demo_accounts
    from worker.backfill import backfill

    db = Database(f"sqlite:///{path}")
    try:
        upgrade_schema(db.engine)
        with db.session() as s:  # technicians, so the generated tickets get assigned
            ensure_demo_accounts(session=s, given={})
        r = backfill(
            db=db, machines=machines, days=days, interval_s=10, seed=7, end=END, progress=progress
        )
        started = time.perf_counter()
        scorings = _scorings(db, days)
        return Seeded(
            machines,
            days,
            r.readings,
            r.failures,
            r.seconds,
            scorings,
            time.perf_counter() - started,
        )
    finally:
        db.dispose()


def _scorings(db: Database, days: float) -> int:
    """One scoring per machine every ``SCORE_EVERY_S`` over the history (a low failure
    probability and anomaly score with noise), written straight through sqlite3."""
    import numpy as np
    from sqlalchemy import select

    from data.models import Machine

    with db.session() as s:
        ids = list(s.scalars(select(Machine.id).order_by(Machine.id)))
    n = int(days * 86400 / SCORE_EVERY_S)
    first = np.datetime64((END - timedelta(days=days)).replace(tzinfo=None), "us")
    stamps = first + np.arange(n) * np.timedelta64(SCORE_EVERY_S, "s")
    text = np.char.replace(np.datetime_as_string(stamps, unit="us"), "T", " ").tolist()
    rng = np.random.default_rng(1)
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        for machine_id in ids:
            prob, anomaly = rng.beta(1, 20, n).round(4), rng.beta(2, 8, n).round(4)
            rows = zip(
                [machine_id] * n,
                text,
                anomaly.tolist(),
                (anomaly > 0.7).tolist(),
                prob.tolist(),
                strict=True,
            )
            cur.executemany(
                "INSERT INTO predictions (machine_id, ts, anomaly_score, is_anomaly,"
                " failure_probability, rul_hours, top_sensors, model_versions)"
                " VALUES (?, ?, ?, ?, ?, 10.0, '[]', '{}')",
                rows,
            )
        conn.commit()
    finally:
        conn.close()
    return n * len(ids)


def tune_part(sizes: Sizes, work: Path, r: LabResults) -> None:
    from scored_sets import synthetic_scored

    db = Database(f"sqlite:///{work / 'tune.sqlite3'}")
    try:
        upgrade_schema(db.engine)
        for label, machines, days in sizes.tune:
            scored = synthetic_scored(machines=machines, days=days, model="candidate")
            row = tune_row(
                label,
                scored,
                db,
                work / f"run-{label}",
                repeat=sizes.repeat,
                budget_s=sizes.budget_s,
            )
            r.tune.append(row)
            log.info(
                "tune %s (%d windows): open p95 %.0f ms, move p95 %.2f ms, baseline p95 %.0f ms",
                label,
                row.windows,
                row.open.timing.p95_ms,
                row.move.timing.p95_ms,
                row.baseline.timing.p95_ms,
            )
    finally:
        db.dispose()


def explore_part(sizes: Sizes, work: Path, r: LabResults, progress: bool) -> None:
    from ml.lab.explore_data import machine_catalogue

    path = work / "lab.sqlite3"
    machines, days = max(sizes.machines), max(sizes.days)
    log.info("seeding %d machines × %g days into %s", machines, days, path)
    r.seeded = seed_sqlite(path, machines=machines, days=days, progress=progress)
    log.info("seeded in %.0f s", r.seeded.seconds + r.seeded.scoring_seconds)
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            names = [name for name, _, _ in machine_catalogue(session=s)]
        for d in sizes.days:
            for n in sizes.machines:
                cell = explore_cell(
                    db,
                    names[:n],
                    SENSORS,
                    END,
                    d,
                    SCALE,
                    repeat=sizes.repeat,
                    budget_s=sizes.budget_s,
                )
                r.explore.append(cell)
                log.info(
                    "explore %g d × %d: draw p95 %.0f ms, naive p95 %.0f ms (%d readings)",
                    d,
                    n,
                    cell.draw.timing.p95_ms,
                    cell.naive.timing.p95_ms,
                    cell.readings,
                )
            tick = score_tick(
                db, names, END, d, SCALE, repeat=sizes.repeat, budget_s=sizes.budget_s
            )
            r.ticks[d] = tick
    finally:
        db.dispose()


def run(args: argparse.Namespace, command: str) -> LabResults:
    sizes = sizes_of(args)
    r = LabResults(command=command)
    r.settings = {
        "repeat": str(sizes.repeat),
        "budget per measurement": f"{sizes.budget_s:g} s",
        "model step": f"{SCALE['model_step_s']:g} s",
        "load average at start": f"{os.getloadavg()[0]:.2f}",
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pdm-bench-lab-") as tmp:
        work = Path(tmp)
        tune_part(sizes, work, r)
        explore_part(sizes, work, r, progress=not args.no_progress)
    r.rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r.settings["total seconds"] = f"{time.monotonic() - started:.0f}"
    return r


def _interpreter() -> str:
    python = Path(sys.executable)
    return str(python.relative_to(REPO)) if python.is_relative_to(REPO) else str(python)


def main(argv: list[str] | None = None) -> LabResults:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([_interpreter(), "-m", "bench.lab", *given])
    results = run(args, command)
    print(block(results))
    print(summary_json(results), flush=True)
    return results


if __name__ == "__main__":
    main()
