"""The drift job's database part over a fleet, on SQLite and on a throwaway PostgreSQL,
against a fleet seeded with one reading per sensor and step: the period's per-step means as
the job reads them now (``data.drift_grid.period_grid``: chunks kept between checks, the
readings since the last check read), against the same-run baseline of the whole period's
query (``data.readings.bucketed_readings``, the job's query before).

    python -m bench.drift_sql                       # 1,000 machines × 24 h at 60 s, both
    python -m bench.drift_sql --models /tmp/drift-models.joblib   # + the statistics
    python -m bench.drift_sql --machines 100 --sqlite-only --explain

Times: the whole query (baseline); the first check with nothing kept (it reads the whole
period, in slices, and keeps it); then three checks each after ``--interval-s`` of new
readings were stored (the job's interval: 300 s), median of 3. With ``--models`` (a
``bench.drift --cache`` file: models trained on the simulator's sensors), the steady
checks run the job's statistics on the grid they read too (windows, features, PSI, KS,
every machine's own check; scores drawn at random as in ``bench.drift``): the whole job
but for storing its rows. The load average (1 min) is printed beside each time."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from bench.servers import PostgresServer
from data.db import Database, upgrade_schema
from data.drift_grid import period_grid
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
    return add_readings(db, now - timedelta(hours=hours), now, step_s, seed=0)


def add_readings(db: Database, start: datetime, stop: datetime, step_s: float, seed: int) -> int:
    """A reading per sensor and step in [start, stop) for every sensor."""
    with db.session() as s:
        sensor_ids = [sid for (sid,) in s.query(Sensor.id).order_by(Sensor.id).all()]
    steps = int((stop - start).total_seconds() / step_s)
    times = [start + timedelta(seconds=step_s * k) for k in range(steps)]
    rng = np.random.default_rng(seed)
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


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def explain(db: Database, since: datetime, step_s: float) -> None:
    """The plans of the whole query and of the count a kept check runs."""
    from sqlalchemy import func, select

    from data.drift_grid import _at
    from data.models import Reading

    with db.session() as s:
        dialect = s.get_bind().dialect.name
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        from data.readings import time_bucket

        bucket = time_bucket(s, Reading.ts, step_s)
        whole = (
            select(Sensor.machine_id, Machine.type, Sensor.kind, bucket, func.avg(Reading.value))
            .join(Sensor, Sensor.id == Reading.sensor_id)
            .join(Machine, Machine.id == Sensor.machine_id)
            .where(Reading.ts >= since, Machine.retired_at.is_(None))
            .group_by(Sensor.machine_id, Machine.type, Sensor.kind, bucket)
        )
        first = int(since.timestamp() // step_s)
        count = (
            select(func.count())
            .select_from(Reading)
            .where(Reading.ts >= _at(first, step_s), Reading.ts < _at(first + 1440, step_s))
        )
        for name, stmt in (("whole query", whole), ("kept chunks' count", count)):
            sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            print(f"-- {dialect}, {name}:")
            for row in s.connection().exec_driver_sql(prefix + sql):
                print("   ", " | ".join(str(c) for c in row))


def statistics_of(trained: object, grid: object, rng: np.random.Generator) -> None:
    """The job's statistics on the grid read (``worker.drift_job``), scores at random."""
    from bench.drift import SENSORS
    from ml.drift_live import grid_windows, machine_drift, type_drift
    from worker.drift_job import MAX_WINDOWS, STRIDE

    values, ids, types = grid.of(SENSORS)  # type: ignore[attr-defined]
    live = grid_windows(
        values, ids, types, window=trained.params.window, stride=STRIDE, max_per_type=MAX_WINDOWS
    )  # type: ignore[attr-defined]
    scores = pd.DataFrame(
        {"anomaly_score": rng.random(len(ids) * 72)}, index=np.repeat(ids, 72)
    ).assign(failure_probability=0.01)
    for kind in trained.reference.by_type:  # type: ignore[attr-defined]
        type_drift(
            reference=trained.reference,  # type: ignore[attr-defined]
            baseline=trained.baseline,  # type: ignore[attr-defined]
            live=live,
            scores=scores,
            machine_type=kind,
        )
    machine_drift(reference=trained.reference, baseline=trained.baseline, live=live)  # type: ignore[attr-defined]


def measure(url: str, args: argparse.Namespace, trained: object | None) -> dict[str, str]:
    db = Database(url)
    upgrade_schema(db.engine)
    step = args.step_s
    now = datetime.fromtimestamp(int(time.time() // step) * step, UTC)
    seed(db, args.machines, args.hours, step, now)
    postgres = url.startswith("postgresql")
    if postgres:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    since = now - timedelta(hours=args.hours)
    if args.explain:
        explain(db, since, step)
    out: dict[str, str] = {}
    started, at = time.perf_counter(), load()
    with db.session() as s:
        rows = len(bucketed_readings(session=s, since=since, step_s=step))
    out["whole"] = f"{time.perf_counter() - started:.2f} s (load {at})"
    out["rows"] = f"{rows:,}"
    period = int(args.hours * 3600 / step)

    def check(at_now: datetime) -> tuple[float, float, int, object]:
        last = int(at_now.timestamp() // step) - 1
        started = time.perf_counter()
        with db.session() as s:
            grid = period_grid(
                session=s, step_s=step, first_bucket=last - period + 1, last_bucket=last
            )
        read = time.perf_counter() - started
        stats = 0.0
        if trained is not None:
            started = time.perf_counter()
            statistics_of(trained, grid, np.random.default_rng(0))
            stats = time.perf_counter() - started
        return read, stats, grid.read, grid

    at = load()
    first, _, read, _ = check(now)
    out["first"] = f"{first:.2f} s (load {at}; {read:,} readings)"
    runs, loads, reads = [], [], []
    for k in range(3):
        later = now + timedelta(seconds=args.interval_s * (k + 1))
        add_readings(db, later - timedelta(seconds=args.interval_s), later, step, seed=k + 1)
        if postgres:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE readings")
        loads.append(load())
        query, stats, read, grid = check(later)
        runs.append((query, stats))
        reads.append(read)
    query = statistics.median(r[0] for r in runs)
    out["steady"] = f"{query:.2f} s (load {', '.join(loads)}; {statistics.median(reads):,.0f} read)"
    if trained is not None:
        stats = statistics.median(r[1] for r in runs)
        total = statistics.median(r[0] + r[1] for r in runs)
        out["stats"] = f"{stats:.2f} s"
        out["job"] = f"**{total:.2f} s**"
    db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--step-s", type=float, default=60)
    parser.add_argument("--interval-s", type=float, default=300, help="between two checks")
    parser.add_argument("--models", help="a bench.drift --cache file: time the statistics too")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()
    trained = None
    if args.models:
        import joblib

        trained = joblib.load(args.models)
    readings = args.machines * len(KINDS) * int(args.hours * 3600 / args.step_s)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(("SQLite", measure(f"sqlite:///{Path(tmp) / 'drift.db'}", args, trained)))
    if not args.sqlite_only:
        pg = PostgresServer()
        try:
            pg.start()
            results.append(("PostgreSQL", measure(pg.new_database(), args, trained)))
        finally:
            pg.stop()
    head = (
        "| database | machines | readings in the period | whole query (baseline, 1 run) "
        "| first check, nothing kept | later check: query (median of 3) "
    )
    head += "| statistics (median of 3) | whole job (median of 3) |" if trained else "|"
    print(head)
    print("| --- | ---: | ---: | ---: | ---: | ---: |" + (" ---: | ---: |" if trained else ""))
    for name, r in results:
        line = f"| {name} | {args.machines} | {readings:,} | {r['whole']} | {r['first']} "
        line += f"| {r['steady']} |"
        if trained:
            line += f" {r['stats']} | {r['job']} |"
        print(line)


if __name__ == "__main__":
    main()
