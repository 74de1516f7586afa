"""The drift job's database part over a fleet: the period's readings bucketed per step in SQL
(``data.readings.bucketed_readings``, the query the job runs) on SQLite and on a throwaway
PostgreSQL, against a fleet seeded with one reading per sensor and step.

    python -m bench.drift_sql                       # 1,000 machines × 24 h at 60 s, both
    python -m bench.drift_sql --machines 100 --sqlite-only

Prints the seconds of the query (median of 3) and the rows it returned. The readings are
one per sensor and step (a plant that sends more often has more rows to average: the time
grows with the rows read)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.servers import PostgresServer
from data.db import Database, upgrade_schema
from data.models import Machine, Sensor
from data.readings import bucketed_readings, insert_readings

TYPES = ("compressor", "motor", "pump")
KINDS = (("temperature", "degC"), ("vibration", "mm/s"), ("rpm", "rpm"))


def seed(db: Database, machines: int, hours: float, step_s: float, now: datetime) -> int:
    """``machines`` machines of three types with three sensors each, and a reading per sensor
    and step over the last ``hours``; returns the readings stored."""
    with db.session() as s:
        for i in range(machines):
            m = Machine(name=f"bench-{i:04d}", type=TYPES[i % 3], location="bench", line="bench")
            m.sensors = [Sensor(key=k, kind=k, unit=u) for k, u in KINDS]
            s.add(m)
    with db.session() as s:
        sensor_ids = [sid for (sid,) in s.query(Sensor.id).order_by(Sensor.id).all()]
    steps = int(hours * 3600 / step_s)
    times = [now - timedelta(seconds=step_s * k) for k in range(steps, 0, -1)]
    rng = np.random.default_rng(0)
    stored = 0
    for chunk in range(0, len(sensor_ids), 150):  # 50 machines a transaction
        ids = sensor_ids[chunk : chunk + 150]
        values = rng.normal(size=(len(ids), steps)).round(3)
        rows = [
            (sid, t, float(v))
            for sid, row in zip(ids, values, strict=True)
            for t, v in zip(times, row, strict=True)
        ]
        with db.session() as s:
            stored += insert_readings(session=s, rows=rows)
    return stored


def measure(url: str, args: argparse.Namespace) -> tuple[float, int, float]:
    """(median seconds of the query, rows returned, seconds the seeding took)."""
    db = Database(url)
    upgrade_schema(db.engine)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    seed(db, args.machines, args.hours, args.step_s, now)
    seeded = time.perf_counter() - started
    if url.startswith("postgresql"):
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    since = now - timedelta(hours=args.hours)
    runs, rows = [], 0
    for _ in range(3):
        started = time.perf_counter()
        with db.session() as s:
            rows = len(bucketed_readings(session=s, since=since, step_s=args.step_s))
        runs.append(time.perf_counter() - started)
    db.engine.dispose()
    return statistics.median(runs), rows, seeded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--step-s", type=float, default=60)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    print("| database | machines | readings read | rows returned | query (median of 3) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    readings = args.machines * len(KINDS) * int(args.hours * 3600 / args.step_s)
    with tempfile.TemporaryDirectory() as tmp:
        took, rows, _ = measure(f"sqlite:///{Path(tmp) / 'drift.db'}", args)
        print(f"| SQLite | {args.machines} | {readings:,} | {rows:,} | {took:.2f} s |")
    if args.sqlite_only:
        return
    pg = PostgresServer()
    try:
        pg.start()
        took, rows, _ = measure(pg.new_database(), args)
        print(f"| PostgreSQL | {args.machines} | {readings:,} | {rows:,} | {took:.2f} s |")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
