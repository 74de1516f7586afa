"""Ingest throughput benchmark: limits, a naive consumer, and this project's worker.

    python -m bench.ingest            # full run, about 4 minutes on 2 cores
    python -m bench.ingest --quick    # under a minute
    python -m bench.ingest --workers 1,2,3   # committed readings/s per worker count
    python -m bench.ingest --drain    # the drain's pipeline against the serial drain

With ``--workers`` it measures only that: the idempotent-COPY limit, then, for each count,
that many workers on one MQTT 5 shared subscription storing the same batched messages
(``bench/scaling.py``). With ``--drain``, only the batched worker with the drain's pipeline
against the serial drain (``PDM_DRAIN_PIPELINE=false``), interleaved, and what bounds each
(``bench/overlap.py``).

In one run it starts PostgreSQL and Mosquitto (tests/services.py), generates one set
of readings, and measures on it, each on a fresh database:

1. the limits: raw COPY into ``readings``; COPY into a staging table then
   INSERT … SELECT … ON CONFLICT DO NOTHING; a paho subscriber that only parses and
   counts single-reading QoS 1 messages;
2. the naive design: INSERT and COMMIT per MQTT message;
3. the real worker (``python app.py worker``), publish → committed, with
   single-reading and with batched messages; then the publish → commit lag of every
   reading at half the batched maximum rate, and the worker's peak RSS.

It prints the table, writes it with the command to docs/benchmarks.md, and ends with
one line of JSON. Targets are reported, not asserted. Slower phases use a prefix of
the same readings (their sizes are in the table).
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

from .overlap import DrainComparison, measure_drain, render_drain, update_drain_docs
from .phases import (
    Bench,
    Throughput,
    copy_rate,
    naive_rate,
    receive_only_rate,
    worker_lag,
    worker_rate,
)
from .readings import fleet, generate
from .report import Results, code_version, render, summary_json, update_docs
from .scaling import Scaling, measure_scaling, render_scaling, update_scaling_docs
from .servers import REPO, running_servers

__all__ = ["Sizes", "main"]

log = logging.getLogger("bench.ingest")


@dataclass(frozen=True, slots=True)
class Sizes:
    """How many readings each measurement uses (a prefix of the generated set)."""

    copy: int
    receive: int
    naive: int
    single: int
    batched: int
    lag_seconds: float

    @property
    def generated(self) -> int:
        return max(self.copy, self.receive, self.naive, self.single, self.batched)


FULL = Sizes(
    copy=2_000_000,
    receive=500_000,
    naive=60_000,
    single=500_000,
    batched=2_000_000,
    lag_seconds=60,
)
QUICK = Sizes(
    copy=300_000, receive=100_000, naive=15_000, single=100_000, batched=300_000, lag_seconds=10
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes: under two minutes")
    p.add_argument("--machines", type=int, default=8, help="machines publishing (default 8)")
    p.add_argument("--per-message", type=int, default=100, help="readings per batched message")
    p.add_argument("--publishers", type=int, default=4, help="mosquitto_pub processes at once")
    p.add_argument(
        "--worker-setting",
        action="append",
        default=[],
        metavar="PDM_NAME=VALUE",
        help="extra setting for the worker (repeatable), e.g. PDM_DRAIN_INTERVAL_S=0.1",
    )
    p.add_argument(
        "--durable",
        action="store_true",
        help="PostgreSQL with fsync and full_page_writes on (the test server has them off)",
    )
    p.add_argument(
        "--workers",
        type=_counts,
        metavar="N,N,...",
        help="measure committed readings/s with each number of workers (e.g. 1,2,3) instead",
    )
    p.add_argument(
        "--drain",
        action="store_true",
        help="only the batched worker: the drain's pipeline against the serial drain",
    )
    p.add_argument("--rounds", type=int, default=2, help="--drain: rounds of both modes")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--no-docs", action="store_true", help="do not update the docs")
    return p.parse_args(argv)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"worker counts like 1,2,3, not {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("every worker count must be at least 1")
    return counts


def worker_tuning(settings: list[str]) -> dict[str, str]:
    """``PDM_NAME=VALUE`` pairs from the command line."""
    tuning = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("PDM_"):
            raise SystemExit(f"--worker-setting wants PDM_NAME=VALUE, got {item!r}")
        tuning[name] = value
    return tuning


def measure(bench: Bench, sizes: Sizes, per_message: int) -> Results:
    """Run every phase in turn; the lag phase runs at half the batched rate just measured."""
    r = Results()
    receive_maximum = int(bench.tuning.get("PDM_MQTT_RECEIVE_MAXIMUM", "2000"))
    _record(r, "copy", copy_rate(bench, sizes.copy, idempotent=False))
    _record(r, "copy_idempotent", copy_rate(bench, sizes.copy, idempotent=True))
    _record(r, "receive_only", receive_only_rate(bench, sizes.receive, receive_maximum))
    _record(r, "naive", naive_rate(bench, sizes.naive))
    single, r.rss_mb["single"] = worker_rate(bench, sizes.single, 1)
    _record(r, "single", single)
    batched, r.rss_mb["batched"] = worker_rate(bench, sizes.batched, per_message)
    _record(r, "batched", batched)
    rate = r.batched_rows_s / 2
    log.info("lag: %.0f readings/s for %.0fs", rate, sizes.lag_seconds)
    lag, r.rss_mb["lag"] = worker_lag(bench, rate, sizes.lag_seconds, per_message)
    r.lag_p50_s, r.lag_p95_s, r.lag_p99_s, r.lag_rate = lag.p50, lag.p95, lag.p99, lag.rate
    r.counts["lag"] = lag.readings
    r.worker_rss_mb = max(r.rss_mb.values())
    return r


_RATE_FIELD = {
    "copy": "copy_rows_s",
    "copy_idempotent": "copy_idempotent_rows_s",
    "receive_only": "receive_only_msgs_s",
    "naive": "naive_rows_s",
    "single": "single_rows_s",
    "batched": "batched_rows_s",
}


def _record(r: Results, name: str, result: Throughput) -> None:
    setattr(r, _RATE_FIELD[name], result.per_s)
    r.counts[name], r.seconds[name] = result.readings, result.seconds
    log.info(
        "%s: %d readings in %.2fs = %.0f/s", name, result.readings, result.seconds, result.per_s
    )


@contextmanager
def _batched_bench(args: argparse.Namespace) -> Iterator[Bench]:
    """The servers and the batched readings that ``--workers`` and ``--drain`` measure."""
    sizes = QUICK if args.quick else FULL
    machines = fleet(args.machines)
    with (
        tempfile.TemporaryDirectory(prefix="pdm-bench-") as tmp,
        running_servers(durable=args.durable) as (pg, mq),
    ):
        readings = generate(sizes.batched, machines, start=time.time() - 6 * 3600)
        tuning = worker_tuning(args.worker_setting)
        bench = Bench(pg, mq, machines, readings, Path(tmp), tuning, publishers=args.publishers)
        bench.stall_s = 30.0 if args.quick else 120.0
        yield bench


def _run_settings(args: argparse.Namespace, load: float) -> dict[str, str]:
    return {
        "machines": str(args.machines),
        "postgres": "durable" if args.durable else "tests/services.py (fsync off)",
        "load average at start": f"{load:.2f}",
        "load average at end": f"{os.getloadavg()[0]:.2f}",
    } | (worker_tuning(args.worker_setting) or {"worker settings": "product defaults"})


def _section(name: str, args: argparse.Namespace) -> str:
    return name + ("-quick" if args.quick else "") + ("-durable" if args.durable else "")


def run_scaling(args: argparse.Namespace, command: str) -> Scaling:
    """``--workers``: start the servers, generate the readings, measure each worker count."""
    load, code = os.getloadavg()[0], code_version(REPO)
    count = (QUICK if args.quick else FULL).batched
    with _batched_bench(args) as bench:
        results = measure_scaling(bench, args.workers, count, args.per_message)
    results.settings = _run_settings(args, load)
    if not args.no_docs:
        section = _section("workers", args)
        update_scaling_docs(args.docs, section=section, r=results, command=command, code=code)
    return results


def run_drain(args: argparse.Namespace, command: str) -> DrainComparison:
    """``--drain``: start the servers, generate the batched readings, compare the modes."""
    load, code = os.getloadavg()[0], code_version(REPO)
    count = (QUICK if args.quick else FULL).batched
    with _batched_bench(args) as bench:
        results = measure_drain(bench, count, args.per_message, args.rounds)
    results.settings = _run_settings(args, load)
    if not args.no_docs:
        section = _section("drain", args)
        update_drain_docs(args.docs, section=section, r=results, command=command, code=code)
    return results


def run(args: argparse.Namespace, command: str) -> Results:
    """Start the servers, generate the readings, measure; servers always stop."""
    sizes = QUICK if args.quick else FULL
    tuning = worker_tuning(args.worker_setting)
    machines = fleet(args.machines)
    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    code = code_version(REPO)  # before the run: others may be editing the tree
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="pdm-bench-") as tmp,
        running_servers(durable=args.durable) as (pg, mq),
    ):
        readings = generate(sizes.generated, machines, start=time.time() - 6 * 3600)
        log.info("generated %d readings over %d machines", len(readings), len(machines))
        bench = Bench(pg, mq, machines, readings, Path(tmp), tuning, publishers=args.publishers)
        bench.stall_s = 30.0 if args.quick else 120.0  # one batch may take long to commit
        results = measure(bench, sizes, args.per_message)
    results.settings = {
        "per_message": str(args.per_message),
        "machines": str(args.machines),
        "postgres": "durable" if args.durable else "tests/services.py (fsync off)",
        "load average at start": f"{load:.2f}",
    }
    results.settings |= tuning or {"worker settings": "product defaults"}
    log.info("done in %.0fs", time.monotonic() - started)
    if not args.no_docs:
        section = ("quick" if args.quick else "full") + ("-durable" if args.durable else "")
        update_docs(args.docs, section=section, r=results, command=command, code=code)
    return results


def _interpreter() -> str:
    """This Python, relative to the repository when it lives there (.venv/bin/python)."""
    python = Path(sys.executable)
    return str(python.relative_to(REPO)) if python.is_relative_to(REPO) else str(python)


def _terminate(*_args: object) -> None:
    raise KeyboardInterrupt  # unwinds through every finally: servers and processes stop


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([_interpreter(), "-m", "bench.ingest", *given])
    if args.workers:
        print(render_scaling(run_scaling(args, command)), flush=True)
        return
    if args.drain:
        print(render_drain(run_drain(args, command)), flush=True)
        return
    results = run(args, command)
    print(render(results))
    print(summary_json(results), flush=True)


if __name__ == "__main__":
    main()
