"""``python app.py backfill --machines N --days D [...]``: history into the database
(``worker.backfill``)."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime

from config import Settings
from data.db import Database
from worker.backfill import backfill, check_backfill

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """``python app.py backfill --machines N --days D [...]``"""
    p = argparse.ArgumentParser(
        prog="python app.py backfill",
        description="Write realistic demo-fleet history with failures straight into the "
        "database (machines motor-01, pump-01, compressor-01, … as the live demo).",
    )
    p.add_argument("--database-url", help="default: PDM_DATABASE_URL, else the SQLite file")
    p.add_argument("--machines", type=int, help="default: PDM_DEMO_MACHINES (6)")
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end", type=_when, help="ISO time of the last sample (UTC if no offset)")
    p.add_argument("--mean-days-between-failures", type=float, default=10.0)
    p.add_argument("--workers", type=int, help="machines written at once (PostgreSQL)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    settings = Settings()
    url = args.database_url or settings.effective_database_url
    machines = settings.demo_machines if args.machines is None else args.machines
    try:
        check_backfill(machines, args.days, args.interval, args.mean_days_between_failures)
    except ValueError as err:
        p.error(str(err))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    db = Database(url)
    try:
        result = backfill(
            db=db,
            machines=machines,
            days=args.days,
            interval_s=args.interval,
            seed=args.seed,
            end=args.end,
            mean_days_between_failures=args.mean_days_between_failures,
            progress=not args.no_progress,
            workers=args.workers,
            resolution=settings.store_resolution,
        )
    finally:
        db.dispose()
    print(result.summary())


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
