"""Committed readings/s against the number of workers (``python -m bench.ingest --workers
1,2,3``): N real ``python app.py worker`` processes on one MQTT 5 shared subscription and one
PostgreSQL, the same batched messages for every N, the idempotent-COPY limit beside them."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .phases import Bench, Throughput, copy_rate
from .publish import publish_files
from .report import write_run
from .servers import phase_database
from .worker_proc import WorkerProcess

__all__ = ["Scaling", "measure_scaling", "render_scaling", "update_scaling_docs"]

log = logging.getLogger(__name__)


@dataclass
class Scaling:
    """One run: the limit, and per worker count its throughput and peak RSS per worker."""

    count: int
    per_message: int
    copy_idempotent: Throughput | None = None
    rates: dict[int, Throughput] = field(default_factory=dict)
    rss_mb: dict[int, float] = field(default_factory=dict)  # the largest worker's peak
    shares: dict[int, list[int]] = field(default_factory=dict)  # readings per worker
    settings: dict[str, str] = field(default_factory=dict)


def measure_scaling(bench: Bench, counts: list[int], count: int, per_message: int) -> Scaling:
    """The idempotent COPY limit, then each worker count on a fresh database."""
    result = Scaling(count, per_message)
    result.copy_idempotent = copy_rate(bench, count, idempotent=True)
    log.info("idempotent COPY: %.0f readings/s", result.copy_idempotent.per_s)
    for n in counts:
        rate, rss, shares = _workers_rate(bench, n, count, per_message)
        result.rates[n], result.rss_mb[n], result.shares[n] = rate, rss, shares
        log.info("%d worker(s): %.0f readings/s, shares %s", n, rate.per_s, shares)
    return result


def _workers_rate(
    bench: Bench, n: int, count: int, per_message: int
) -> tuple[Throughput, float, list[int]]:
    files = bench.message_files(count, per_message)
    group = f"bench{n}"
    with phase_database(bench.pg, bench.machines) as db, ExitStack() as stack:
        workers = []
        for i in range(n):
            worker = WorkerProcess(
                database_url=db.url,
                mqtt_port=bench.mq.port,
                var_dir=bench.workdir / f"scale-{n}-{i}",
                tuning=bench.tuning
                | {"PDM_MQTT_SHARED_GROUP": group, "PDM_WORKER_NAME": f"bench-{n}-{i}"},
            )
            stack.callback(worker.stop)
            workers.append(worker)
        for worker in workers:  # one after the other: a start is CPU-bound
            worker.start()
        started = time.time()
        seconds = publish_files(files, port=bench.mq.port, parallel=bench.publishers)
        log.info("published %d readings in %.1fs to %d worker(s)", count, seconds, n)
        _wait_all(workers, count, bench.stall_s)
        shares = [w.ingested() for w in workers]
        rss = max(w.peak_rss_mb() for w in workers)
        for worker in workers:
            worker.stop()
        stored, last = db.committed()
        return Throughput(stored, (last or started) - started), rss, shares


def _wait_all(workers: list[WorkerProcess], expect: int, stall_s: float) -> None:
    last, moved = -1, time.monotonic()
    while True:
        now = sum(max(w.ingested(), 0) for w in workers)
        if now >= expect:
            return
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stall_s:
            log.warning("stalled at %d of %d readings; measuring what arrived", now, expect)
            return
        time.sleep(0.1)


def render_scaling(r: Scaling) -> str:
    """The table: committed readings/s per worker count, against one worker and the limit."""
    limit = r.copy_idempotent.per_s if r.copy_idempotent else 0.0
    one = r.rates[min(r.rates)].per_s if r.rates else 0.0
    lines = [
        "| workers | readings committed | seconds | committed readings/s | × the first row |"
        " of the idempotent-COPY limit | readings per worker | largest worker peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for n, rate in sorted(r.rates.items()):
        lines.append(
            f"| {n} | {rate.readings:,} | {rate.seconds:.1f} | {rate.per_s:,.0f} |"
            f" {rate.per_s / one if one else 0:.2f} | {rate.per_s / limit if limit else 0:.0%} |"
            f" {' / '.join(f'{s:,}' for s in r.shares[n])} | {r.rss_mb[n]:.0f} MiB |"
        )
    if r.copy_idempotent:
        lines.append(
            f"| limit: COPY + INSERT … ON CONFLICT | {r.copy_idempotent.readings:,} |"
            f" {r.copy_idempotent.seconds:.1f} | {limit:,.0f} | | 100% | | |"
        )
    return "\n".join(lines)


def update_scaling_docs(path: Path, *, section: str, r: Scaling, command: str, code: str) -> None:
    """Replace the ``section`` block of ``path`` with this run (appended when missing)."""
    settings = ", ".join(f"`{k}={v}`" for k, v in r.settings.items())
    body = [f"{r.count:,} readings in messages of {r.per_message}; settings: {settings}", ""]
    body.append(render_scaling(r))
    heading = f"### Workers: {section}"
    write_run(path, section=section, command=command, code=code, body=body, heading=heading)
