"""Storage bytes per reading on plain PostgreSQL and on TimescaleDB (compressed), and the
sizing table they give.

    python -m bench.storage                      # 3 machines × 2 days at 1 Hz, ~3 minutes
    python -m bench.storage --machines 1 --days 0.5 --no-docs   # a quick look

Two throwaway clusters (``tests/services.py``): one plain, one preloading TimescaleDB
(skipped, and said so, when TimescaleDB is not installed). ``python app.py backfill``'s
history (the demo fleet's realistic values, same seed and end on both) is written into
each; the plain table is measured after ``VACUUM`` (``pg_total_relation_size``: heap,
primary key, ``ts`` index); the hypertable with ``hypertable_size`` before and after
``compress_chunk`` on every chunk (the product's settings: segment by sensor, order by
``ts DESC``). The same compressed size is measured for the values rounded to a sensor's
usual resolution (a copy of the hypertable), since real sensors send few decimals and the
simulator sends many. Prints the tables and writes them with the command to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from data.db import Database
from worker.backfill import backfill

from .report import code_version, write_run
from .servers import REPO, PostgresServer

sys.path.insert(0, str(REPO / "tests"))
from services import NO_TIMESCALEDB, timescaledb_installed  # noqa: E402

__all__ = ["Measured", "main", "sizing_rows"]

log = logging.getLogger("bench.storage")
GB = 1e9
ROUNDED_DECIMALS = 1  # 0.1 °C, 0.1 mm/s, 0.1 rpm


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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.storage", description=__doc__.split("\n")[0])
    p.add_argument("--machines", type=int, default=3, help="demo machines (3 sensors each)")
    p.add_argument("--days", type=float, default=2.0, help="days of history (default 2)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="do not update the docs")
    return p.parse_args(argv)


@contextmanager
def _cluster(timescale: bool) -> Iterator[PostgresServer]:
    server = PostgresServer(timescale=timescale)
    try:
        yield server.start()
    finally:
        server.stop()


def _fill(server: PostgresServer, args: argparse.Namespace, end: datetime) -> str:
    """A fresh database holding the history; its libpq URL."""
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
    the values rounded."""
    with psycopg.connect(url, autocommit=True) as conn:
        kind = conn.execute(
            "SELECT count(*) FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'readings'"
        ).fetchone()
        if not kind or not kind[0]:
            raise SystemExit("readings is not a hypertable on the TimescaleDB cluster")
        conn.execute("VACUUM (ANALYZE) readings")
        n = _one(conn, "SELECT count(*) FROM readings")
        before = _one(conn, "SELECT hypertable_size('readings')")
        conn.execute(
            "CREATE TABLE readings_rounded (LIKE readings INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        conn.execute(
            "SELECT create_hypertable('readings_rounded', by_range('ts', INTERVAL '1 day'))"
        )
        conn.execute(
            "INSERT INTO readings_rounded SELECT sensor_id, ts,"
            f" round(value::numeric, {ROUNDED_DECIMALS})::float8 FROM readings"
        )
        conn.execute(
            "ALTER TABLE readings_rounded SET (timescaledb.compress,"
            " timescaledb.compress_segmentby = 'sensor_id',"
            " timescaledb.compress_orderby = 'ts DESC')"
        )
        chunks = _one(conn, _COMPRESS_ALL, ("readings",))
        _one(conn, _COMPRESS_ALL, ("readings_rounded",))
        log.info("compressed %d chunks", chunks)
        after = _one(conn, "SELECT hypertable_size('readings')")
        rounded = _one(conn, "SELECT hypertable_size('readings_rounded')")
    return n, before / n, after / n, rounded / n


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
    if n_ts != n:
        raise SystemExit(f"the two clusters hold different histories: {n} vs {n_ts} readings")
    return Measured(n, plain, heap, rollup, hyper, compressed, rounded)


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

            def kept(days: int, hot: float = hot, per_day: float = per_day) -> float:
                assert m.compressed is not None
                return hot + per_day * (days - COMPRESS_AFTER_DAYS) * m.compressed / GB

            row += [f"{kept(30):,.1f}", f"{kept(KEPT_DAYS):,.0f}"]
        else:
            row += ["—", "—"]
        row.append(f"{max(1, math.ceil(per_s / WORKER_READINGS_S))}")
        rows.append(row)
    return rows


def render_sizing(m: Measured) -> str:
    head = (
        "| machines | sensors each | Hz | readings/s | plain PG GB/day | plain PG GB/month"
        f" | plain PG GB, {KEPT_DAYS} days kept | TimescaleDB GB/month | TimescaleDB GB,"
        f" {KEPT_DAYS} days kept | workers at {WORKER_READINGS_S:,} readings/s |"
    )
    lines = [head, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += ["| " + " | ".join(row) + " |" for row in sizing_rows(m)]
    return "\n".join(lines)


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
    m = measure(args)
    body = [
        f"{m.readings:,} readings ({args.machines} demo machines × 3 sensors, {args.days:g} days"
        f" at {args.interval:g} s); load average at start {load:.2f}.",
        "",
        render_measured(m),
        "",
        render_sizing(m),
    ]
    print("\n".join(body), flush=True)
    if not args.no_docs:
        write_run(
            args.docs,
            section="storage",
            command=command,
            code=code,
            body=body,
            heading="## Storage bytes per reading and sizing (`python -m bench.storage`)",
        )


if __name__ == "__main__":
    main()
