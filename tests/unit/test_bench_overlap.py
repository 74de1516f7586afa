"""bench/overlap.py's table: each phase against the best serial one and the COPY limit,
CPU per million readings, the pipeline's stage times and the parsers' costs."""

from __future__ import annotations

from bench.overlap import DrainComparison, DrainRun, render_drain
from bench.phases import Throughput


def _run(mode: str, seconds: float) -> DrainRun:
    cpu = {"worker": 10.0, "postgres": 8.0, "mosquitto": 1.0}
    stages = {"parse": 1.5, "commit": 9.0, "commit_wait": 7.0}
    return DrainRun(mode, Throughput(1_000_000, seconds), 300.0, cpu, 0.95, stages)


def test_the_table_compares_each_phase_with_the_best_serial_one():
    r = DrainComparison(1_000_000, 100, copy_idempotent=Throughput(1_000_000, 5.0))
    r.runs = [_run("serial", 20.0), _run("pipeline", 10.0), _run("pipeline", 8.0)]
    r.runs.append(_run("serial", 25.0))
    r.parse_us = {"general parser": 5.0, "prepare (fast path)": 1.25}
    lines = render_drain(r).splitlines()
    assert lines[2].startswith("| serial | 1,000,000 | 20.0 | 50,000 | 1.00 | 25% | 300 MiB |")
    assert lines[4].startswith("| pipeline | 1,000,000 | 8.0 | 125,000 | 2.50 | 62% |")
    assert "| 10.0 / 8.0 / 1.0 | 95% |" in lines[2]  # CPU s per million readings
    assert "| limit: COPY + INSERT … ON CONFLICT | 1,000,000 | 5.0 | 200,000 |" in lines[6]
    assert "| 2 (8.0 s) | 1.5 | 9.0 | 7.0 |" in lines
    assert lines[-1] == "| prepare (fast path) | 1.25 |"
    assert r.best("pipeline").rate.seconds == 8.0
