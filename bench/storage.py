"""Storage bytes per reading on plain PostgreSQL and on TimescaleDB (compressed), and the
sizing table they give.

    python -m bench.storage                      # 3 machines × 2 days at 1 Hz, ~3 minutes
    python -m bench.storage --machines 1 --days 0.5 --no-docs   # a quick look

    python -m bench.storage --series             # the machine page's 30-day series, ~6 min

Two throwaway clusters (``tests/services.py``): one plain, one preloading TimescaleDB
(skipped, and said so, when TimescaleDB is not installed). ``python app.py backfill``'s
history (the demo fleet's realistic values, same seed and end on both) is written into
each; the plain table is measured after ``VACUUM`` (``pg_total_relation_size``: heap,
primary key, ``ts`` index); the hypertable with ``hypertable_size`` before and after
``compress_chunk`` on every chunk (the product's settings: segment by sensor, order by
``ts DESC``). The same compressed size is measured on two copies of the hypertable: the
values rounded to 0.1 (real sensors send few decimals, the simulator many); and the same
history is backfilled into a third database with ``PDM_STORE_RESOLUTION`` at the resolution
the simulator sends (the product's own path: values on power-of-two steps of 1/128 °C,
1/1024 mm/s, 1/16 rpm; the float compression XORs successive values, so only a power-of-two
step leaves it trailing zeros, a decimal step does not) and measured compressed. Prints the
tables and writes them with the command to docs/benchmarks.md.

``--series`` measures instead what the machine page waits for on a 30-day range (the
``sensor_history`` call of ``callbacks/machine.py``, one machine's 3 sensors, the page's
``MAX_POINTS``), on the same history in both clusters (30 days at 10 s by default): on plain
PostgreSQL from the rollup table the backfill filled (raw readings after it), on TimescaleDB
from the continuous aggregates (materialized as their refresh policy leaves them, readings
older than a day compressed as its policy does); the same buckets computed from raw
readings beside them. Every machine in turn, ``--repeat`` rounds; p50 and p95 per source.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import signal
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.db import Database
from data.machine_series import machine_sensors, sensor_history
from data.models import Machine
from data.timescale import AGGREGATES
from web.views.machine import MAX_POINTS
from worker.backfill import backfill

from .report import code_version, write_run
from .servers import REPO, PostgresServer

sys.path.insert(0, str(REPO / "tests"))
from services import NO_TIMESCALEDB, timescaledb_installed  # noqa: E402

__all__ = ["Measured", "SeriesTimes", "main", "sizing_rows"]

log = logging.getLogger("bench.storage")
GB = 1e9
ROUNDED_DECIMALS = 1  # 0.1 °C, 0.1 mm/s, 0.1 rpm
# the simulator's resolution (simulator/bulk_history.py rounds to these decimals), given as
# PDM_STORE_RESOLUTION to the backfill of a third database (power-of-two steps 1/128, ...)
RESOLUTION = {"temperature": 0.01, "vibration": 0.001, "rpm": 0.1}


@dataclass(frozen=True, slots=True)
class Measured:
    """Bytes per stored reading, each ``None`` when not measured."""

    readings: int
    plain: float
    plain_heap: float
    rollup_row: float  # one readings_10m row (plain PostgreSQL)
    hyper: float | None = None
    compressed: float | None = None
    compressed_rounded: float | None = None
    compressed_binary: float | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__.split("\n")[0])
    p.add_argument("--machines", type=int, default=3, help="demo machines (3 sensors each)")
    p.add_argument("--days", type=float, default=2.0, help="days of history (default 2)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="do not update the docs")
    p.add_argument(
        "--series",
        action="store_true",
        help="time the machine page's 30-day series instead (defaults: --days 30 --interval 10)",
    )
    p.add_argument("--repeat", type=int, default=20, help="--series: rounds over the machines")
    args = p.parse_args(argv)
    given = argv if argv is not None else sys.argv[1:]
    if args.series and "--days" not in given:
        args.days = 30.0
    if args.series and "--interval" not in given:
        args.interval = 10.0
    return args


@contextmanager
def _cluster(timescale: bool) -> Iterator[PostgresServer]:
    server = PostgresServer(timescale=timescale)
    try:
        yield server.start()
    finally:
        server.stop()


def _fill(
    server: PostgresServer,
    args: argparse.Namespace,
    end: datetime,
    resolution: dict[str, float] | None = None,
) -> str:
    """A fresh database holding the history (values stored at ``resolution``, as
    ``PDM_STORE_RESOLUTION`` has them stored); its libpq URL."""
    url = server.new_database()
    db = Database(url)
    try:
        result = backfill(
            db=db,
            machines=args.machines,
            days=args.days,
            interval_s=args.interval,
            end=end,
            progress=False,
            workers=2,
            resolution=resolution,
        )
    finally:
        db.dispose()
    log.info("%s", result.summary())
    return url.replace("postgresql+psycopg://", "postgresql://")


def _plain(url: str) -> tuple[int, float, float, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) readings, readings_10m")
        n, total, heap = conn.execute(
            "SELECT count(*), pg_total_relation_size('readings'), pg_relation_size('readings')"
            " FROM readings"
        ).fetchone() or (0, 0, 0)
        rollups, rollup_bytes = conn.execute(
            "SELECT count(*), pg_total_relation_size('readings_10m') FROM readings_10m"
        ).fetchone() or (0, 0)
    return n, total / n, heap / n, rollup_bytes / max(rollups, 1)


_COMPRESS_ALL = "SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks(%s) c"


def _timescale(url: str) -> tuple[int, float, float, float]:
    """Readings, bytes per reading before and after compression, and after compression with
    the values rounded to 0.1."""
    with psycopg.connect(url, autocommit=True) as conn:
        _check_hypertable(conn)
        conn.execute("VACUUM (ANALYZE) readings")
        n = _one(conn, "SELECT count(*) FROM readings")
        before = _one(conn, "SELECT hypertable_size('readings')")
        rounded = _compressed_copy(
            conn, "readings_rounded", f"round(value::numeric, {ROUNDED_DECIMALS})::float8"
        )
        chunks = _one(conn, _COMPRESS_ALL, ("readings",))
        log.info("compressed %d chunks", chunks)
        after = _one(conn, "SELECT hypertable_size('readings')")
    return n, before / n, after / n, rounded / n


def _compressed(url: str) -> tuple[int, float]:
    """Readings and bytes per reading of a hypertable with every chunk compressed."""
    with psycopg.connect(url, autocommit=True) as conn:
        _check_hypertable(conn)
        n = _one(conn, "SELECT count(*) FROM readings")
        _one(conn, _COMPRESS_ALL, ("readings",))
        return n, _one(conn, "SELECT hypertable_size('readings')") / n


def _check_hypertable(conn: psycopg.Connection) -> None:
    kind = conn.execute(
        "SELECT count(*) FROM timescaledb_information.hypertables"
        " WHERE hypertable_name = 'readings'"
    ).fetchone()
    if not kind or not kind[0]:
        raise SystemExit("readings is not a hypertable on the TimescaleDB cluster")


def _compressed_copy(conn: psycopg.Connection, table: str, value: str) -> int:
    """Bytes of a compressed hypertable holding ``readings`` with ``value`` (SQL over
    ``readings``) for each reading's value."""
    conn.execute(f"CREATE TABLE {table} (LIKE readings INCLUDING DEFAULTS INCLUDING INDEXES)")
    conn.execute(f"SELECT create_hypertable('{table}', by_range('ts', INTERVAL '1 day'))")
    conn.execute(f"INSERT INTO {table} SELECT sensor_id, ts, {value} FROM readings")
    conn.execute(
        f"ALTER TABLE {table} SET (timescaledb.compress,"
        " timescaledb.compress_segmentby = 'sensor_id',"
        " timescaledb.compress_orderby = 'ts DESC')"
    )
    _one(conn, _COMPRESS_ALL, (table,))
    return _one(conn, f"SELECT hypertable_size('{table}')")


def _one(conn: psycopg.Connection, sql: str, params: tuple[object, ...] = ()) -> int:
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row and row[0] is not None else 0


def measure(args: argparse.Namespace) -> Measured:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with _cluster(timescale=False) as plain_pg:
        n, plain, heap, rollup = _plain(_fill(plain_pg, args, end))
    if not timescaledb_installed():
        log.warning("TimescaleDB rows skipped: %s", NO_TIMESCALEDB)
        return Measured(n, plain, heap, rollup)
    with _cluster(timescale=True) as ts_pg:
        n_ts, hyper, compressed, rounded = _timescale(_fill(ts_pg, args, end))
        # the same history written again, its values stored as PDM_STORE_RESOLUTION stores them
        n_res, binary = _compressed(_fill(ts_pg, args, end, RESOLUTION))
    if not n == n_ts == n_res:
        raise SystemExit(f"the databases hold different histories: {n}, {n_ts}, {n_res} readings")
    return Measured(n, plain, heap, rollup, hyper, compressed, rounded, binary)


def render_measured(m: Measured) -> str:
    rows = [
        ("plain PostgreSQL: heap only", m.plain_heap),
        ("plain PostgreSQL: table + primary key + `ts` index", m.plain),
        ("TimescaleDB hypertable, uncompressed (with its indexes)", m.hyper),
        (
            "TimescaleDB, every chunk compressed (segment by sensor, order by `ts DESC`)",
            m.compressed,
        ),
        (f"the same, values rounded to {10**-ROUNDED_DECIMALS:g}", m.compressed_rounded),
        (
            "the same, values stored at the simulator's resolution (`PDM_STORE_RESOLUTION`"
            " 0.01 °C, 0.001 mm/s, 0.1 rpm: steps of 1/128, 1/1024, 1/16)",
            m.compressed_binary,
        ),
    ]
    lines = ["| storage | bytes per reading | × plain |", "| --- | ---: | ---: |"]
    for name, value in rows:
        if value is None:
            lines.append(f"| {name} | not measured ({NO_TIMESCALEDB.split(';')[0]}) | |")
        else:
            lines.append(f"| {name} | {value:.2f} | {value / m.plain:.3f} |")
    lines += ["", f"A ten-minute rollup row (`readings_10m`, with its key): {m.rollup_row:.0f} B."]
    return "\n".join(lines)


SCENARIOS = ((50, 3, 1.0), (300, 3, 1.0), (1000, 10, 1.0), (300, 10, 10.0), (1000, 10, 10.0))
# one worker's committed readings/s with batched messages on this loaded 2-core machine
# ("Several workers", one-worker row); a quiet machine measured 71,500
WORKER_READINGS_S = 11_858
KEPT_DAYS = 365  # PDM_RETENTION_RAW_DAYS' default
COMPRESS_AFTER_DAYS = 1  # PDM_TIMESCALE_COMPRESS_AFTER_DAYS' default


def sizing_rows(m: Measured) -> list[list[str]]:
    """Per scenario: readings/s, plain GB per day/month/kept, TimescaleDB GB per month/kept
    (the newest day uncompressed, the rest compressed)."""
    rows = []
    for machines, sensors, hz in SCENARIOS:
        per_s = machines * sensors * hz
        per_day = per_s * 86_400
        plain_day = per_day * m.plain / GB
        row = [
            f"{machines:,}",
            str(sensors),
            f"{hz:g}",
            f"{per_s:,.0f}",
            f"{plain_day:,.1f}",
            f"{plain_day * 30:,.0f}",
            f"{plain_day * KEPT_DAYS:,.0f}",
        ]
        if m.hyper is not None and m.compressed is not None:
            hot = per_day * COMPRESS_AFTER_DAYS * m.hyper / GB

            def kept(days: int, size: float, hot: float = hot, per_day: float = per_day) -> float:
                return hot + per_day * (days - COMPRESS_AFTER_DAYS) * size / GB

            row += [f"{kept(30, m.compressed):,.1f}", f"{kept(KEPT_DAYS, m.compressed):,.0f}"]
            at_resolution = m.compressed_binary
            row.append("—" if at_resolution is None else f"{kept(KEPT_DAYS, at_resolution):,.0f}")
        else:
            row += ["—", "—", "—"]
        row.append(f"{max(1, math.ceil(per_s / WORKER_READINGS_S))}")
        rows.append(row)
    return rows


def render_sizing(m: Measured) -> str:
    head = (
        "| machines | sensors each | Hz | readings/s | plain PG GB/day | plain PG GB/month"
        f" | plain PG GB, {KEPT_DAYS} days kept | TimescaleDB GB/month | TimescaleDB GB,"
        f" {KEPT_DAYS} days kept | the same at the sensors' resolution"
        f" (`PDM_STORE_RESOLUTION`) | workers at {WORKER_READINGS_S:,} readings/s |"
    )
    lines = [head, "| " + " | ".join(["---:"] * 11) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in sizing_rows(m)]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class SeriesTimes:
    """Milliseconds per 30-day machine page series, per source, and the rows it read."""

    readings: int
    times: dict[str, list[float]]
    bucket_rows: dict[str, int]


SERIES_DAYS = 30


def _page_series(url: str, label: str, repeat: int, raw: bool) -> tuple[list[float], int]:
    """``repeat`` rounds of every machine's 30-day series; the times (ms) and the rows of
    the last one. ``raw``: the same buckets from raw readings (no stored buckets)."""
    db = Database(url)
    times: list[float] = []
    rows = 0
    try:
        with db.session() as s:
            machines = [m.id for m in s.query(Machine).order_by(Machine.id)]
            ids = {m: [x.id for x in machine_sensors(session=s, machine_id=m)] for m in machines}
        for _ in range(repeat):
            for machine in machines:
                end = datetime.now(UTC)
                start = end - timedelta(days=SERIES_DAYS)
                began = time.perf_counter()
                with db.session() as s:
                    if raw:
                        frame = _raw_series(s, ids[machine], start, end)
                    else:
                        frame = sensor_history(
                            session=s,
                            sensor_ids=ids[machine],
                            start=start,
                            end=end,
                            max_points=MAX_POINTS,
                        )
                times.append((time.perf_counter() - began) * 1000)
                rows = len(frame)
    finally:
        db.dispose()
    log.info("%s: p50 %.1f ms", label, statistics.median(times))
    return times, rows


def _raw_series(s: Session, sensor_ids: list[int], start: datetime, end: datetime) -> object:
    """The page's buckets from raw readings (what either store saves it from)."""
    step = -(-math.ceil((end - start).total_seconds() / MAX_POINTS) // 600) * 600
    return s.execute(
        text(
            "SELECT sensor_id, floor(extract(epoch FROM ts) / :step) AS b, avg(value),"
            " min(value), max(value), count(*) FROM readings WHERE sensor_id = ANY(:ids)"
            " AND ts >= :start AND ts < :end GROUP BY sensor_id, b ORDER BY sensor_id, b"
        ),
        {"step": step, "ids": sensor_ids, "start": start, "end": end},
    ).all()


def _settle_timescale(url: str) -> None:
    """What the policies leave: the aggregates materialized up to their end offset, readings
    older than a day compressed."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, (_, end_offset, _) in AGGREGATES.items():
            conn.execute(
                f"CALL refresh_continuous_aggregate('{name}', NULL, now() - %s::interval)",
                (end_offset,),
            )
        conn.execute(
            "SELECT count(compress_chunk(c, if_not_compressed => true))"
            " FROM show_chunks('readings', older_than => now() - INTERVAL '1 day') c"
        )
        conn.execute("VACUUM (ANALYZE)")


def measure_series(args: argparse.Namespace) -> SeriesTimes:
    end = datetime.now(UTC) - timedelta(minutes=1)
    times: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    with _cluster(timescale=False) as plain_pg:
        url = _fill(plain_pg, args, end)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            n = _one(conn, "SELECT count(*) FROM readings")
        sa_url = url.replace("postgresql://", "postgresql+psycopg://")
        for key, raw in (("plain: rollup table", False), ("plain: raw readings", True)):
            times[key], rows[key] = _page_series(sa_url, key, args.repeat, raw)
    if not timescaledb_installed():
        log.warning("TimescaleDB rows skipped: %s", NO_TIMESCALEDB)
        return SeriesTimes(n, times, rows)
    with _cluster(timescale=True) as ts_pg:
        url = _fill(ts_pg, args, end)
        _settle_timescale(url)
        sa_url = url.replace("postgresql://", "postgresql+psycopg://")
        for key, raw in (
            ("TimescaleDB: continuous aggregates", False),
            ("TimescaleDB: raw readings (compressed)", True),
        ):
            times[key], rows[key] = _page_series(sa_url, key, args.repeat, raw)
    return SeriesTimes(n, times, rows)


def render_series(m: SeriesTimes) -> str:
    base = _p95(m.times["plain: rollup table"])
    lines = [
        "| source of the 30-day series | p50 ms | p95 ms | × rollup table (p95) | series rows |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, times in m.times.items():
        p95 = _p95(times)
        lines.append(
            f"| {key} | {statistics.median(times):.1f} | {p95:.1f} | {p95 / base:.2f}"
            f" | {m.bucket_rows[key]:,} |"
        )
    if not any(k.startswith("TimescaleDB") for k in m.times):
        lines.append(f"| TimescaleDB | not measured ({NO_TIMESCALEDB.split(';')[0]}) | | | |")
    return "\n".join(lines)


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def _terminate(*_args: object) -> None:
    raise KeyboardInterrupt  # unwinds through every finally: the clusters stop


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    python = Path(sys.executable)
    shown = str(python.relative_to(REPO)) if python.is_relative_to(REPO) else str(python)
    command = shlex.join([shown, "-m", "bench.storage", *given])
    load, code = os.getloadavg()[0], code_version(REPO)
    if args.series:
        series = measure_series(args)
        body = [
            f"{series.readings:,} readings ({args.machines} demo machines × 3 sensors,"
            f" {args.days:g} days at {args.interval:g} s); {args.repeat} rounds over the"
            f" machines per source; load average at start {load:.2f}.",
            "",
            render_series(series),
        ]
        section, heading = (
            "page-series",
            (
                "## The machine page's 30-day series: continuous aggregates vs the rollup table"
                " (`python -m bench.storage --series`)"
            ),
        )
    else:
        m = measure(args)
        body = [
            f"{m.readings:,} readings ({args.machines} demo machines × 3 sensors,"
            f" {args.days:g} days at {args.interval:g} s); load average at start {load:.2f}.",
            "",
            render_measured(m),
            "",
            render_sizing(m),
        ]
        section, heading = (
            "storage",
            ("## Storage bytes per reading and sizing (`python -m bench.storage`)"),
        )
    print("\n".join(body), flush=True)
    if not args.no_docs:
        write_run(
            args.docs, section=section, command=command, code=code, body=body, heading=heading
        )


if __name__ == "__main__":
    main()
