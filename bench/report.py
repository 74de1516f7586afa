"""Results: the table, the targets (reported, never asserted), the JSON line, the docs."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "Results",
    "Target",
    "targets",
    "render",
    "summary_json",
    "update_docs",
    "machine",
    "code_version",
]


@dataclass
class Results:
    """Everything one run measured; rates are per second."""

    copy_rows_s: float = 0.0
    copy_idempotent_rows_s: float = 0.0
    receive_only_msgs_s: float = 0.0
    naive_rows_s: float = 0.0
    batched_rows_s: float = 0.0
    single_rows_s: float = 0.0
    lag_p50_s: float = 0.0
    lag_p95_s: float = 0.0
    lag_p99_s: float = 0.0
    lag_rate: float = 0.0
    worker_rss_mb: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)  # worker peak RSS per phase
    counts: dict[str, int] = field(default_factory=dict)  # readings per measurement
    seconds: dict[str, float] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)  # what the run used


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    ok: bool


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def targets(r: Results) -> list[Target]:
    """The issue's targets, each judged against numbers of this same run."""
    return [
        Target(
            "batched ingest ≥ 50,000 readings/s",
            f"{r.batched_rows_s:,.0f}/s",
            r.batched_rows_s >= 50_000,
        ),
        Target(
            "batched ≥ 0.5 × idempotent COPY",
            f"{_ratio(r.batched_rows_s, r.copy_idempotent_rows_s):.2f}×",
            r.batched_rows_s >= 0.5 * r.copy_idempotent_rows_s,
        ),
        Target(
            "single-reading ≥ 0.8 × bare receive",
            f"{_ratio(r.single_rows_s, r.receive_only_msgs_s):.2f}×",
            r.single_rows_s >= 0.8 * r.receive_only_msgs_s,
        ),
        Target(
            "batched ≥ 20 × naive consumer",
            f"{_ratio(r.batched_rows_s, r.naive_rows_s):.1f}×",
            r.batched_rows_s >= 20 * r.naive_rows_s,
        ),
        Target(
            "p95 lag ≤ 1 s at half the maximum rate",
            f"{r.lag_p95_s:.3f} s",
            0 < r.lag_p95_s <= 1.0,
        ),
        Target("worker peak RSS ≤ 400 MB", f"{r.worker_rss_mb:.0f} MiB", r.worker_rss_mb <= 400),
    ]


def render(r: Results) -> str:
    """The results as Markdown tables (printed and written to the docs)."""
    rows = [
        ("raw COPY into `readings`", "copy", r.copy_rows_s),
        (
            "COPY → staging → INSERT … ON CONFLICT DO NOTHING",
            "copy_idempotent",
            r.copy_idempotent_rows_s,
        ),
        (
            "bare paho receive (parse + count, single-reading msgs)",
            "receive_only",
            r.receive_only_msgs_s,
        ),
        ("naive consumer (INSERT + COMMIT per message)", "naive", r.naive_rows_s),
        ("worker, single-reading messages", "single", r.single_rows_s),
        (
            f"worker, batched ({r.settings.get('per_message', '?')} readings/message)",
            "batched",
            r.batched_rows_s,
        ),
    ]
    out = ["| measurement | readings | seconds | readings/s |", "| --- | ---: | ---: | ---: |"]
    for label, key, rate in rows:
        out.append(
            f"| {label} | {r.counts.get(key, 0):,} | {r.seconds.get(key, 0):.2f} | {rate:,.0f} |"
        )
    out += [
        "",
        "| ratio | value |",
        "| --- | ---: |",
        f"| batched / idempotent COPY | {_ratio(r.batched_rows_s, r.copy_idempotent_rows_s):.2f} |",
        f"| batched / raw COPY | {_ratio(r.batched_rows_s, r.copy_rows_s):.2f} |",
        f"| single-reading / bare receive | {_ratio(r.single_rows_s, r.receive_only_msgs_s):.2f} |",
        f"| batched / naive | {_ratio(r.batched_rows_s, r.naive_rows_s):.1f} |",
        f"| batched / single-reading | {_ratio(r.batched_rows_s, r.single_rows_s):.1f} |",
        "",
        f"Ingest lag, publish → committed, batched messages at {r.lag_rate:,.0f} readings/s "
        f"(half the batched maximum), {r.counts.get('lag', 0):,} readings: "
        f"p50 {r.lag_p50_s:.3f} s, p95 {r.lag_p95_s:.3f} s, p99 {r.lag_p99_s:.3f} s.",
        "",
        f"Worker peak RSS (VmHWM): {r.worker_rss_mb:.0f} MiB at most ("
        + ", ".join(f"{name} {mb:.0f} MiB" for name, mb in r.rss_mb.items())
        + ").",
        "",
        "| target | measured | result |",
        "| --- | ---: | --- |",
    ]
    out += [f"| {t.name} | {t.measured} | {'pass' if t.ok else '**FAIL**'} |" for t in targets(r)]
    return "\n".join(out)


def summary_json(r: Results) -> str:
    """The one-line JSON the issue asks for: rates as whole numbers per second, the lag in
    seconds and the RSS in MiB to three places."""
    rates = (
        "copy_rows_s",
        "copy_idempotent_rows_s",
        "receive_only_msgs_s",
        "naive_rows_s",
        "batched_rows_s",
        "single_rows_s",
    )
    values = asdict(r)
    summary: dict[str, float] = {k: round(values[k]) for k in rates}
    summary |= {"lag_p95_s": round(r.lag_p95_s, 3), "worker_rss_mb": round(r.worker_rss_mb, 3)}
    return json.dumps(summary)


def machine() -> str:
    """One line describing this machine and the servers' versions."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    mosquitto = _version(["mosquitto", "-h"], r"mosquitto version (\S+)", "Mosquitto")
    postgres = _version(["psql", "--version"], r"(\d+\.\d+)", "PostgreSQL")
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {mosquitto}, {postgres}"
    )


def code_version(repo: Path) -> str:
    """The commit measured, and whether the work tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def _version(cmd: list[str], pattern: str, name: str) -> str:
    try:
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return f"{name} ?"
    found = re.search(pattern, text)
    return f"{name} {found.group(1) if found else '?'}"


_DOC_HEADER = """\
# Benchmarks

Measured by `python -m bench.ingest` (see `bench/ingest.py`); the sections between the
`bench:` markers are rewritten by each run, the rest is written by hand.
"""


def update_docs(path: Path, *, section: str, r: Results, command: str, code: str) -> None:
    """Replace the ``section`` block of ``path`` (created when missing) with this run."""
    settings = ", ".join(f"`{k}={v}`" for k, v in r.settings.items())
    write_run(path, section=section, command=command, code=code,
              body=[f"Settings: {settings}", "", render(r)])  # fmt: skip


def write_run(path: Path, *, section: str, command: str, code: str, body: list[str]) -> None:
    """Replace the ``section`` block of ``path`` (appended when missing) with a run: when,
    where, the command and the code, then ``body``'s lines."""
    begin, end = f"<!-- bench:{section}:begin -->", f"<!-- bench:{section}:end -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join(
        [begin, f"Run {stamp} on {machine()}.", "", f"Command: `{command}` (code: {code})", ""]
        + body
        + [end]
    )
    text = path.read_text() if path.exists() else _DOC_HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## Latest {section} run\n\n{block}\n"
    path.write_text(text)
