"""One function per measurement; each gets a fresh database and cleans up after itself.

Rates that involve MQTT run from the moment publishing starts until the last reading
is committed (PostgreSQL's commit timestamp of the newest row) or, for the
receive-only consumer, until the last message is parsed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from simulator.fleet_physics import MachineDef

from .publish import PacedPublisher, publish_files
from .readings import Reading, copy_chunks, write_message_files
from .servers import REPO, MosquittoServer, PhaseDatabase, PostgresServer, phase_database
from .worker_proc import WorkerProcess

__all__ = [
    "Bench",
    "Throughput",
    "Lag",
    "copy_rate",
    "receive_only_rate",
    "naive_rate",
    "worker_rate",
    "worker_lag",
]

log = logging.getLogger(__name__)
COPY_CHUNK_ROWS = 100_000


@dataclass
class Bench:
    """What every phase shares: the servers, the fleet, the readings, a scratch folder."""

    pg: PostgresServer
    mq: MosquittoServer
    machines: list[MachineDef]
    readings: list[Reading]
    workdir: Path
    tuning: dict[str, str]  # PDM_* settings given to the worker
    publishers: int = 4
    stall_s: float = 30.0
    _files: dict[tuple[int, int], list[tuple[str, Path]]] = field(default_factory=dict)

    def message_files(self, count: int, per_message: int) -> list[tuple[str, Path]]:
        """Payload files of the first ``count`` readings, written once and reused."""
        key = (count, per_message)
        if key not in self._files:
            folder = self.workdir / f"messages-{count}-{per_message}"
            self._files[key] = write_message_files(
                self.readings[:count], folder, per_message=per_message
            )
        return self._files[key]


@dataclass(frozen=True, slots=True)
class Throughput:
    readings: int  # rows committed (or messages received, for the receive-only consumer)
    seconds: float

    @property
    def per_s(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Lag:
    p50: float
    p95: float
    p99: float
    readings: int
    rate: float  # readings/s offered


def copy_rate(bench: Bench, count: int, *, idempotent: bool) -> Throughput:
    """COPY the readings straight into ``readings``, or through a staging table with
    INSERT … SELECT … ON CONFLICT DO NOTHING; one transaction per 100,000 rows."""
    with phase_database(bench.pg, bench.machines) as db:
        chunks = copy_chunks(bench.readings[:count], db.sensors, COPY_CHUNK_ROWS)
        with psycopg.connect(db.dsn) as conn:
            if idempotent:
                conn.execute(
                    "CREATE TEMP TABLE staging (LIKE readings INCLUDING DEFAULTS)"
                    " ON COMMIT DELETE ROWS"
                )
                conn.commit()
            started = time.perf_counter()
            for chunk in chunks:
                _copy_chunk(conn, chunk, idempotent=idempotent)
                conn.commit()
            seconds = time.perf_counter() - started
        stored, _ = db.committed()
    return Throughput(stored, seconds)


def _copy_chunk(conn: psycopg.Connection, chunk: bytes, *, idempotent: bool) -> None:
    target = "staging" if idempotent else "readings"
    with conn.cursor() as cur:
        with cur.copy(f"COPY {target} (sensor_id, ts, value) FROM STDIN") as copy:
            copy.write(chunk)
        if idempotent:
            cur.execute(
                "INSERT INTO readings (sensor_id, ts, value)"
                " SELECT sensor_id, ts, value FROM staging ON CONFLICT DO NOTHING"
            )


def receive_only_rate(bench: Bench, count: int, receive_maximum: int) -> Throughput:
    """Single-reading messages into a subscriber that parses and counts, nothing else."""
    files = bench.message_files(count, 1)
    args = ["receive", "--expect", str(count), "--receive-maximum", str(receive_maximum)]
    with consumer(bench, args) as proc:
        started = time.time()
        publish_files(files, port=bench.mq.port, parallel=bench.publishers)
        report = _consumer_report(proc)
    return Throughput(report["count"], report["last"] - started)


def naive_rate(bench: Bench, count: int) -> Throughput:
    """Single-reading messages into the tutorial consumer: INSERT + COMMIT per message."""
    files = bench.message_files(count, 1)
    with phase_database(bench.pg, bench.machines) as db:
        with consumer(bench, ["naive", "--expect", str(count), "--dsn", db.dsn]) as proc:
            started = time.time()
            publish_files(files, port=bench.mq.port, parallel=bench.publishers)
            _consumer_report(proc)
        return _committed_since(db, started)


def worker_rate(bench: Bench, count: int, per_message: int) -> tuple[Throughput, float]:
    """The real worker, end to end; returns the throughput and its peak RSS (MiB)."""
    files = bench.message_files(count, per_message)
    with (
        phase_database(bench.pg, bench.machines) as db,
        _worker(bench, db, f"{per_message}") as worker,
    ):
        started = time.time()
        seconds = publish_files(files, port=bench.mq.port, parallel=bench.publishers)
        log.info("published %d readings in %.1fs", count, seconds)
        _wait_for(worker.ingested, count, bench.stall_s)
        rss = worker.peak_rss_mb()
        worker.stop()
        return _committed_since(db, started), rss


def worker_lag(
    bench: Bench, readings_per_s: float, seconds: float, per_message: int
) -> tuple[Lag, float]:
    """Publish → commit lag of each reading at a steady rate; returns it and peak RSS."""
    with (
        phase_database(bench.pg, bench.machines) as db,
        _worker(bench, db, "lag") as worker,
    ):
        publisher = PacedPublisher(bench.mq.port, bench.machines, per_message=per_message)
        try:
            sent = publisher.run(readings_per_s, seconds)
        finally:
            publisher.close()
        _wait_for(worker.ingested, sent, bench.stall_s)
        rss = worker.peak_rss_mb()
        worker.stop()
        p50, p95, p99 = _lag_percentiles(db)
        return Lag(p50, p95, p99, sent, readings_per_s), rss


def _lag_percentiles(db: PhaseDatabase) -> tuple[float, float, float]:
    with psycopg.connect(db.dsn) as conn:
        row = conn.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP"
            " (ORDER BY extract(epoch FROM pg_xact_commit_timestamp(xmin) - ts))"
            " FROM readings"
        ).fetchone()
    assert row is not None and row[0] is not None, "no readings to measure lag on"
    p50, p95, p99 = (float(x) for x in row[0])
    return p50, p95, p99


def _committed_since(db: PhaseDatabase, started: float) -> Throughput:
    stored, last_commit = db.committed()
    return Throughput(stored, (last_commit or started) - started)


@contextmanager
def _worker(bench: Bench, db: PhaseDatabase, name: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(
        database_url=db.url,
        mqtt_port=bench.mq.port,
        var_dir=bench.workdir / f"worker-{name}",
        tuning=bench.tuning,
    )
    try:
        worker.start()
        yield worker
    except BaseException:
        log.error("worker log tail:\n%s", worker.log_tail())
        raise
    finally:
        worker.stop()


def _wait_for(progress: Callable[[], int], expect: int, stall_s: float) -> int:
    """Poll until ``progress()`` reaches ``expect`` or stops moving for ``stall_s``."""
    last, moved = -1, time.monotonic()
    while True:
        now = progress()
        if now >= expect:
            return now
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stall_s:
            log.warning("stalled at %d of %d readings; measuring what arrived", now, expect)
            return now
        time.sleep(0.1)


@contextmanager
def consumer(bench: Bench, args: Sequence[str]) -> Iterator[subprocess.Popen[str]]:
    """A reference consumer (bench/consumers.py) in its own process, subscribed."""
    cmd = [sys.executable, "-m", "bench.consumers", *args, "--port", str(bench.mq.port)]
    cmd += ["--idle-s", str(bench.stall_s)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"consumer {args[0]} did not start")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _consumer_report(proc: subprocess.Popen[str]) -> dict[str, float]:
    assert proc.stdout is not None
    out, _ = proc.communicate(timeout=3600)
    report = json.loads(out.strip().splitlines()[-1])
    if not report["count"]:
        raise RuntimeError("the consumer received nothing")
    return report
