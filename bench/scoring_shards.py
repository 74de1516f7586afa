"""Live scoring by the leader against scoring sharded by machine id, measured in one run.

    python -m bench.scoring_shards                          # 300 and 1,000 machines, K 1,2,3
    python -m bench.scoring_shards --machines 300 --ticks 3 --hz 0.2

One PostgreSQL (the test suite's, ``tests/services.py``), one fresh database per fleet size
with the demo fleet, the demo models trained here, registered and promoted, and readings
for every sensor at ``--hz`` from one window (W + 2 live steps) ago up to now, topped up to
the present before every tick. Then 1 + 2 + 3 member processes (spawned, each with its own
``JobContext``) run the real ``score`` job body (``worker.live_scoring.score``): the leader
(K = 1) on the whole fleet, and each member k of K = 2, 3 on the machines with
machine_id % K == k, its query reading only its share. Every round runs one tick of each
K in turn (the K members of one tick at the same instant), after one untimed warm-up tick
(models loaded, TensorFlow traced). Per K: the tick's wall time until its last member is
done (p50/p95), the members' CPU seconds per tick (summed), the PostgreSQL processes' CPU
seconds per tick, the members' peak RSS (``VmHWM``), and the ratios against the first row.

``--reads whole,kept`` also compares how a tick reads its window (``data.live_window``):
``kept``, the job as it is (bucket means kept between ticks, a tick reads the newest buckets
and a tenth of the older ones), against ``whole``, every bucket of the window read again
every tick (the job before; a ``LiveWindow`` with sweep 1).

    python -m bench.scoring_shards --shards 1 --reads whole,kept --ticks 7
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path

import psycopg

from simulator.fleet_physics import MACHINE_TYPES, demo_fleet

from .scoring import peak_rss_mb
from .servers import PostgresServer, phase_database

__all__ = ["main", "percentile", "shard_members", "summarize"]

log = logging.getLogger("bench.scoring_shards")


def shard_members(machine_ids: list[int], shards: int) -> list[list[int]]:
    """The machines each of ``shards`` members scores: member k those with id % shards == k
    (the filter ``data.readings.bucketed_readings(shard=(k, shards))`` applies)."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    return [[m for m in machine_ids if m % shards == k] for k in range(shards)]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, linear between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def summarize(ticks: list[dict], leader_p50: float | None) -> dict:
    """One K's row from its ticks (each {wall, cpu, db_cpu, rss: [per member], scored})."""
    walls = [t["wall"] for t in ticks]
    p50 = percentile(walls, 0.5)
    return {
        "p50": p50,
        "p95": percentile(walls, 0.95),
        "cpu": statistics.median(t["cpu"] for t in ticks),
        "db_cpu": statistics.median(t["db_cpu"] for t in ticks),
        "rss_max": max(max(t["rss"]) for t in ticks),
        "rss_sum": max(sum(t["rss"]) for t in ticks),
        "scored": statistics.median(t["scored"] for t in ticks),
        "ratio": None if not leader_p50 else p50 / leader_p50,
    }


SWEEP = {"kept": 10, "whole": 1}  # ticks between two reads of one bucket


def member(
    url: str,
    models_dir: str,
    time_scale: float,
    shard: tuple[int, int],
    reads: str,
    conn: Connection,
):
    """One scoring process: a warm-up tick, then one tick per "tick" message, answered
    with (wall s, CPU s, machines scored, peak RSS MiB)."""
    from config import Settings
    from data.db import Database
    from data.live_window import LiveWindow
    from maintenance.ops.app_settings import Overrides
    from worker.context import JobContext
    from worker.live_scoring import score

    settings = Settings(
        database_url=url, models_dir=Path(models_dir), ml_time_scale=time_scale, simulator=False
    )
    db = Database(url)
    ctx = JobContext(settings, db, Overrides(settings, db), drainer=None)  # type: ignore[arg-type]
    whole = None if shard[1] == 1 else shard
    ctx.scoring.window = LiveWindow(step_s=settings.live_step_s, shard=whole, sweep=SWEEP[reads])
    warm = score(ctx, whole)
    log.warning("member %s: warm-up tick scored %d (models %s)", shard, warm, ctx.scoring.versions)
    conn.send("ready")
    while conn.recv() == "tick":
        cpu, wall = time.process_time(), time.perf_counter()
        scored = score(ctx, whole)
        conn.send((time.perf_counter() - wall, time.process_time() - cpu, scored, peak_rss_mb()))
    db.dispose()


def _postgres_cpu(pg: PostgresServer) -> float:
    """CPU seconds of the postmaster and all its children so far (backends included)."""
    import psutil

    pid = int((pg.data / "postmaster.pid").read_text().split()[0])
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _fill(dsn: str, start: datetime, end: datetime, hz: float) -> int:
    """Readings for every sensor at ``hz`` in (start, end], made in the database: its
    type's healthy value (``simulator.fleet_physics.MACHINE_TYPES``) ± 2 % noise."""
    nominal = [
        (name, kind, float(getattr(t, "temp" if kind == "temperature" else kind)))
        for name, t in MACHINE_TYPES.items()
        for kind in ("temperature", "vibration", "rpm")
    ]
    values = ", ".join("(%s, %s, %s::float8)" for _ in nominal)
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            "INSERT INTO readings (sensor_id, ts, value)"
            " SELECT s.id, t, n.value * (0.98 + 0.04 * random())"
            f" FROM (VALUES {values}) n (type, kind, value)"
            " JOIN machines m ON m.type = n.type JOIN sensors s ON s.machine_id = m.id"
            " AND s.kind = n.kind"
            " CROSS JOIN generate_series(%s::timestamptz + %s * interval '1 s',"
            " %s::timestamptz, %s * interval '1 s') t ON CONFLICT DO NOTHING",
            (*(x for row in nominal for x in row), start, 1 / hz, end, 1 / hz),
        )
        return cur.rowcount


def _models(url: str, models_dir: Path, quick: bool, known: list[dict]) -> list[dict]:
    """The demo models (``maintenance.ops.model_lab.demo_training``'s data and parameters;
    ``quick``: smaller), trained, registered and promoted without the backtest, unless
    ``known`` holds them (registered and promoted here); returns their registry rows."""
    from config import Settings
    from data.db import Database
    from maintenance.ops.model_lab import simulated
    from ml.registry import active, promote, register
    from ml.train_register import train_and_register
    from ml.windows import Params

    db = Database(url)
    if not known:
        data = simulated(*((4, 1) if quick else (15, 6)), Settings().simulator_seed + 1000)
        params = Params(epochs=1 if quick else 4, stride=10, family="auto")
        train_and_register(db=db, models_dir=models_dir, data=data, params=params)
    fields = ("kind", "artefact", "params", "features", "metrics", "train_from", "train_to")
    with db.session() as session:
        for row in known:
            register(session=session, **{**row, "artefact": Path(row["artefact"])})
        for kind in ("anomaly", "failure"):
            promote(session=session, kind=kind, version=1)
        rows = [
            {f: getattr(active(session=session, kind=kind), f) for f in fields}
            for kind in ("anomaly", "failure")
        ]
    db.dispose()
    return rows


def measure(
    pg: PostgresServer, machines: int, args: argparse.Namespace, tmp: Path, models: list
) -> dict:
    """Every K's ticks on one fleet of ``machines`` (``models``: the registry rows of the
    models trained for the first fleet, filled in then)."""
    from ml.windows import Params

    step_s = 60.0 / args.time_scale
    window = Params().window
    spawn = get_context("spawn")
    with phase_database(pg, demo_fleet(machines)) as db:
        models[:] = _models(db.url, tmp / "models", args.quick_models, models)
        filled = datetime.now(UTC)
        rows = _fill(db.dsn, filled - timedelta(seconds=step_s * (window + 3)), filled, args.hz)
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE readings")
        log.info("%d machines: %d readings", machines, rows)
        groups: dict[tuple[int, str], list] = {}
        for k_total in args.shards:
            for reads in args.reads:
                procs = []
                for k in range(k_total):
                    parent, child = spawn.Pipe()
                    proc = spawn.Process(
                        target=member,
                        args=(
                            db.url,
                            str(tmp / "models"),
                            args.time_scale,
                            (k, k_total),
                            reads,
                            child,
                        ),
                    )
                    proc.start()
                    procs.append((proc, parent))
                groups[(k_total, reads)] = procs
        for procs in groups.values():
            for _, pipe in procs:
                assert pipe.recv() == "ready"
        ticks: dict[tuple[int, str], list[dict]] = {group: [] for group in groups}
        for _ in range(args.ticks):
            for group, procs in groups.items():
                now = datetime.now(UTC)
                _fill(db.dsn, filled, now, args.hz)
                filled = now
                db_cpu = _postgres_cpu(pg)
                started = time.perf_counter()
                for _, pipe in procs:
                    pipe.send("tick")
                answers = [pipe.recv() for _, pipe in procs]
                wall = time.perf_counter() - started
                ticks[group].append(
                    {
                        "wall": wall,
                        "cpu": sum(a[1] for a in answers),
                        "db_cpu": _postgres_cpu(pg) - db_cpu,
                        "scored": sum(a[2] for a in answers),
                        "rss": [a[3] for a in answers],
                    }
                )
        for procs in groups.values():
            for proc, pipe in procs:
                pipe.send("stop")
                proc.join(30)
        with psycopg.connect(db.dsn) as conn:
            stored = conn.execute("SELECT count(*) FROM readings").fetchone()
    first = percentile([t["wall"] for t in next(iter(ticks.values()))], 0.5)
    rows = {group: summarize(v, first) for group, v in ticks.items()}
    return {"machines": machines, "readings": stored[0] if stored else 0, "rows": rows}


def render(results: list[dict], args: argparse.Namespace, load: tuple, interval_s: float) -> str:
    """The Markdown table of every fleet size and K."""
    lines = [
        "| machines | K | window read | scored | tick p50 | tick p95 | p50 / first row "
        "| members' CPU s | PostgreSQL CPU s | peak RSS per member | RSS of all members |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for (k, reads), r in result["rows"].items():
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}×"
            lines.append(
                f"| {result['machines']:,} | {k} | {reads} | {r['scored']:.0f} | {r['p50']:.2f} s "
                f"| {r['p95']:.2f} s | {ratio} | {r['cpu']:.2f} | {r['db_cpu']:.2f} "
                f"| {r['rss_max']:.0f} MiB | {r['rss_sum']:.0f} MiB |"
            )
    lines.append("")
    lines.append(
        f"{args.ticks} ticks per row (after a warm-up tick), readings at {args.hz:g} Hz per "
        f"sensor, live step {60 / args.time_scale:g} s, score interval {interval_s:g} s; "
        f"{os.cpu_count()} cores, load average at start {load[0]} and at end {load[1]}."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(prog="python -m bench.scoring_shards", description=__doc__)
    p.add_argument("--machines", default="300,1000", help="fleet sizes (default 300,1000)")
    p.add_argument("--shards", default="1,2,3", help="K values; 1 is the leader")
    p.add_argument("--reads", default="kept", help="window reads: kept, whole (default kept)")
    p.add_argument("--ticks", type=int, default=7, help="timed ticks per row (default 7)")
    p.add_argument("--hz", type=float, default=1.0, help="readings per sensor per second")
    p.add_argument("--time-scale", type=float, default=1.0, help="PDM_ML_TIME_SCALE (default 1)")
    p.add_argument("--quick-models", action="store_true", help="smaller training (a check)")
    args = p.parse_args(argv)
    args.shards = [int(k) for k in args.shards.split(",")]
    args.reads = args.reads.split(",")
    if not set(args.reads) <= set(SWEEP):
        p.error(f"--reads takes {', '.join(SWEEP)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from config import Settings

    before = tuple(round(x, 2) for x in os.getloadavg())
    interval = Settings().score_interval_s
    pg = PostgresServer()
    results = []
    with tempfile.TemporaryDirectory(prefix="pdm-bench-shards-") as tmp:
        try:
            pg.start()
            models: list[dict] = []
            for machines in (int(m) for m in args.machines.split(",")):
                results.append(measure(pg, machines, args, Path(tmp), models))
                now = tuple(round(x, 2) for x in os.getloadavg())
                print(render(results[-1:], args, (before, now), interval), flush=True)
        finally:
            pg.stop()
    after = tuple(round(x, 2) for x in os.getloadavg())
    table = render(results, args, (before, after), interval)
    print(table)
    return table


if __name__ == "__main__":
    main()
