"""The drain before and after its pipeline, in one run (``python -m bench.ingest --drain``).

The same batched messages stored by the real worker (``python app.py worker``) with
``PDM_DRAIN_PIPELINE=false`` (the drain as it was: parse every message with the general
parser, COPY, merge, commit, ack, one batch after the other) and with the product's default
(the next batch parsed while the previous one commits, clean messages through the fast
path), interleaved A B B A so that drift on a shared machine hits both alike, each on a
fresh database, with the idempotent-COPY limit measured in the same run.

The profile beside each phase says what bounds it:

- CPU seconds per million readings of the worker, of PostgreSQL (postmaster and all its
  backends) and of Mosquitto, from ``/proc``, and how busy the machine's cores were
  (``/proc/stat``) from the first publish to the last commit;
- for the pipeline, where the drain's time went (the worker's own counters): parsing,
  committing (the committer thread) and waiting for a commit with the next batch parsed;
- in this process, the Python cost per reading of the general parser and of the fast path
  on the same messages.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from data.db import Database
from ingest.payload import PayloadLimits, parse_message
from ingest.writer import BatchWriter, InboundMessage

from .phases import Bench, Throughput, _wait_for, copy_rate
from .publish import publish_files
from .report import write_run
from .servers import PhaseDatabase, phase_database
from .worker_proc import WorkerProcess

__all__ = ["DrainRun", "DrainComparison", "measure_drain", "render_drain", "update_drain_docs"]

log = logging.getLogger(__name__)
_TICK = os.sysconf("SC_CLK_TCK")
MODES = {"serial": "false", "pipeline": "true"}  # PDM_DRAIN_PIPELINE per mode
STAGES = ("parse", "commit", "commit_wait")


@dataclass
class DrainRun:
    mode: str
    rate: Throughput
    rss_mb: float
    cpu_s: dict[str, float]  # worker, postgres, mosquitto: CPU seconds over the phase
    busy: float  # share of all cores busy over the phase (0..1)
    stages_s: dict[str, float]  # the worker's pdm_ingest_*_seconds_total


@dataclass
class DrainComparison:
    count: int
    per_message: int
    copy_idempotent: Throughput | None = None
    runs: list[DrainRun] = field(default_factory=list)
    parse_us: dict[str, float] = field(default_factory=dict)  # Python µs per reading
    profile: dict = field(default_factory=dict)  # bench/stack_sampler.py's, one more phase
    profiled: DrainRun | None = None
    settings: dict[str, str] = field(default_factory=dict)

    def best(self, mode: str) -> DrainRun:
        return max((r for r in self.runs if r.mode == mode), key=lambda r: r.rate.per_s)


def measure_drain(bench: Bench, count: int, per_message: int, rounds: int) -> DrainComparison:
    """The limit, the parsers in this process, then the worker in each mode, A B B A …"""
    result = DrainComparison(count, per_message)
    result.copy_idempotent = copy_rate(bench, count, idempotent=True)
    log.info("idempotent COPY: %.0f readings/s", result.copy_idempotent.per_s)
    result.parse_us = parser_costs(bench, min(count, 200_000), per_message)
    order = [m for i in range(rounds) for m in (["serial", "pipeline"][:: 1 if i % 2 == 0 else -1])]
    for mode in order:
        run = _phase(bench, mode, count, per_message)
        result.runs.append(run)
        log.info("%s: %.0f readings/s, cpu %s", mode, run.rate.per_s, run.cpu_s)
    out = bench.workdir / "profile.json"  # one more pipeline phase, under the sampler
    result.profiled = _phase(bench, "pipeline", count, per_message, profile=out)
    result.profile = json.loads(out.read_text()) if out.exists() else {}
    return result


def parser_costs(bench: Bench, count: int, per_message: int) -> dict[str, float]:
    """Python µs per reading, best of 3, on the benchmark's own batched messages: the
    general parser alone, and ``BatchWriter.prepare`` (fast path, mapping to sensor ids,
    the binary COPY built)."""
    files = bench.message_files(count, per_message)
    messages = []
    for machine, path in files:
        topic = f"pdm/{machine}/telemetry".encode()
        for line in path.read_text().splitlines():
            messages.append(InboundMessage(topic, line.encode(), 0, 1, time.time()))
    readings = sum(len(json.loads(m.payload)["readings"]) for m in messages)
    limits, now = PayloadLimits(), datetime.now(UTC)
    with phase_database(bench.pg, bench.machines) as pdb:
        db = Database(pdb.url)
        try:
            writer = BatchWriter(db, prefix="pdm", limits=limits)
            writer.prepare(messages[:1])  # loads the sensor directory
            general = _best(
                lambda: [
                    parse_message(m.topic, m.payload, prefix="pdm", limits=limits, now=now)
                    for m in messages
                ]
            )
            prepared = writer.prepare(messages)
            assert len(prepared.columns) == readings and not prepared.dead, "not all stored"
            fast = _best(lambda: writer.prepare(messages))
        finally:
            db.dispose()
    return {
        "general parser": general / readings * 1e6,
        "prepare (fast path)": fast / readings * 1e6,
    }


def _best(work: object, tries: int = 3) -> float:
    best = float("inf")
    for _ in range(tries):
        started = time.process_time()
        work()  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return best


def _phase(
    bench: Bench, mode: str, count: int, per_message: int, profile: Path | None = None
) -> DrainRun:
    files = bench.message_files(count, per_message)
    launcher = [sys.executable, "-m", "bench.stack_sampler", str(profile)] if profile else None
    with phase_database(bench.pg, bench.machines) as db:
        worker = WorkerProcess(
            database_url=db.url,
            mqtt_port=bench.mq.port,
            var_dir=bench.workdir / f"drain-{mode}-{len(files)}-{time.monotonic_ns()}",
            tuning=bench.tuning | {"PDM_DRAIN_PIPELINE": MODES[mode]},
            launcher=launcher,
        )
        try:
            worker.start()
            before, busy_before = _cpu(bench, worker.pid), _machine_busy()
            started = time.time()
            publish_files(files, port=bench.mq.port, parallel=bench.publishers)
            _wait_for(worker.ingested, count, bench.stall_s)
            after, busy_after = _cpu(bench, worker.pid), _machine_busy()
            stages = {s: worker.metric(f"pdm_ingest_{s}_seconds_total") for s in STAGES}
            rss = worker.peak_rss_mb()
        finally:
            worker.stop()
        rate = _committed(db, started)
    cpu = {k: after[k] - before[k] for k in after}
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1e-9)
    return DrainRun(mode, rate, rss, cpu, busy, stages)


def _committed(db: PhaseDatabase, started: float) -> Throughput:
    stored, last = db.committed()
    return Throughput(stored, (last or started) - started)


def _cpu(bench: Bench, worker_pid: int) -> dict[str, float]:
    """CPU seconds so far of the worker, PostgreSQL (all its processes) and Mosquitto."""
    postmaster = int((bench.pg.data / "postmaster.pid").read_text().split()[0])
    mosquitto = bench.mq._proc.pid if bench.mq._proc else -1  # noqa: SLF001 - bench only
    postgres = 0.0
    for pid, ppid, seconds in _processes():
        if pid == postmaster or ppid == postmaster:
            postgres += seconds
    return {
        "worker": _pid_cpu(worker_pid),
        "postgres": postgres,
        "mosquitto": _pid_cpu(mosquitto),
    }


def _processes() -> list[tuple[int, int, float]]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            out.append(
                (int(entry.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
            )
    return out


def _pid_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


def render_drain(r: DrainComparison) -> str:
    limit = r.copy_idempotent.per_s if r.copy_idempotent else 0.0
    base = r.best("serial").rate.per_s if any(x.mode == "serial" for x in r.runs) else 0.0
    lines = [
        "| drain | readings committed | seconds | committed readings/s | × serial (best) |"
        " of the idempotent-COPY limit | peak RSS | CPU s per M readings: worker / PostgreSQL"
        " / Mosquitto | cores busy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for run in r.runs:
        per_m = 1e6 / max(run.rate.readings, 1)
        cpu = " / ".join(f"{run.cpu_s[k] * per_m:.1f}" for k in ("worker", "postgres", "mosquitto"))
        lines.append(
            f"| {run.mode} | {run.rate.readings:,} | {run.rate.seconds:.1f} |"
            f" {run.rate.per_s:,.0f} | {run.rate.per_s / base if base else 0:.2f} |"
            f" {run.rate.per_s / limit if limit else 0:.0%} | {run.rss_mb:.0f} MiB | {cpu} |"
            f" {run.busy:.0%} |"
        )
    if r.copy_idempotent:
        lines.append(
            f"| limit: COPY + INSERT … ON CONFLICT | {r.copy_idempotent.readings:,} |"
            f" {r.copy_idempotent.seconds:.1f} | {limit:,.0f} | | 100% | | | |"
        )
    lines += [
        "",
        "| pipeline phase | parsing s | committing s (committer thread) |"
        " waiting for a commit, next batch parsed s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for i, run in enumerate(x for x in r.runs if x.mode == "pipeline"):
        s = run.stages_s
        lines.append(
            f"| {i + 1} ({run.rate.seconds:.1f} s) | {s['parse']:.1f} | {s['commit']:.1f} |"
            f" {s['commit_wait']:.1f} |"
        )
    lines += ["", "| parser, in this process | Python µs per reading |", "| --- | ---: |"]
    lines += [f"| {name} | {us:.2f} |" for name, us in r.parse_us.items()]
    if r.profile and r.profiled:
        lines += [
            "",
            f"Sampled profile of one more pipeline phase ({r.profiled.rate.per_s:,.0f}"
            " readings/s under the sampler; `bench/stack_sampler.py`, every 5 ms): per thread,"
            " the innermost Python frames and their share of that thread's samples while busy"
            " (a thread blocked in C, e.g. on PostgreSQL's socket, counts at the call).",
            "",
            "| thread | samples | innermost frames (share) |",
            "| --- | ---: | --- |",
        ]
        for role, data in r.profile.items():
            top = "; ".join(f"`{where}` {share:.0%}" for where, share in data["top"][:6])
            lines.append(f"| {role} | {data['samples']:,} | {top} |")
    return "\n".join(lines)


def update_drain_docs(
    path: Path, *, section: str, r: DrainComparison, command: str, code: str
) -> None:
    settings = ", ".join(f"`{k}={v}`" for k, v in r.settings.items())
    body = [f"{r.count:,} readings in messages of {r.per_message}; settings: {settings}", ""]
    body.append(render_drain(r))
    heading = f"### Drain: {section}"
    write_run(path, section=section, command=command, code=code, body=body, heading=heading)
