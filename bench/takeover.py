"""How long the fleet-wide jobs stand still when the worker holding their leases goes away.

    python -m bench.takeover                 # 3 workers, 5 stops of each kind, TTL 9 s
    python -m bench.takeover --ttl 3 --rounds 3
    python -m bench.takeover --dead-member   # a killed member's MQTT messages instead

Three ``python app.py worker`` processes on one PostgreSQL and Mosquitto (the servers of
``tests/services.py``). Each round stops the worker holding most leases, by SIGTERM (it
releases them: the baseline) or by kill -9 (they must expire), and times, by polling the
leases table every 20 ms, how long until every one of its leases is held by a live worker;
the stopped worker is then replaced by a new one under a new name. Prints the table, and
writes it with the command to docs/reliability.md.

``--dead-member``: how long the messages of a shared-subscription member killed with
kill -9 wait before another worker, or the member itself back, stores them
(``bench/dead_member.py``).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import statistics
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

import psycopg

from worker.schedule import FLEET_JOBS

from .dead_member import measure_dead_member, render_dead_member
from .report import code_version, write_run
from .servers import REPO, PhaseDatabase, phase_database, running_servers
from .worker_proc import WorkerProcess

__all__ = ["main"]

log = logging.getLogger("bench.takeover")
WORKERS = 3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.takeover", description=__doc__.split("\n")[0])
    p.add_argument("--ttl", type=float, default=9.0, help="PDM_LEASE_TTL_S (default 9)")
    p.add_argument("--rounds", type=int, default=5, help="stops of each kind (default 5)")
    p.add_argument("--dead-member", action="store_true", help="measure a killed member's messages")
    p.add_argument("--restart-after", type=float, default=5.0, help="--dead-member: seconds")
    p.add_argument("--seconds", type=float, default=30.0, help="--dead-member: stream length")
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "reliability.md")
    p.add_argument("--no-docs", action="store_true", help="do not update the docs")
    return p.parse_args(argv)


def _leases(db: PhaseDatabase) -> dict[str, str]:
    """{fleet job: holder} of the leases not expired, by the database's clock."""
    with psycopg.connect(db.dsn) as conn:
        rows = conn.execute(
            "SELECT name, holder FROM leases WHERE expires_at >= now() AND name = ANY(%s)",
            (list(FLEET_JOBS),),
        ).fetchall()
    return dict(rows)


class Fleet:
    """Three workers; ``replace`` stops one and starts a new one under a new name."""

    def __init__(self, db: PhaseDatabase, mqtt_port: int, workdir: Path, ttl: float) -> None:
        self.db, self.mqtt_port, self.workdir, self.ttl = db, mqtt_port, workdir, ttl
        self.numbers = count(1)
        self.workers: dict[str, WorkerProcess] = {}

    def start_one(self) -> None:
        name = f"w{next(self.numbers)}"
        worker = WorkerProcess(
            database_url=self.db.url,
            mqtt_port=self.mqtt_port,
            var_dir=self.workdir / name,
            tuning={
                "PDM_WORKER_NAME": name,
                "PDM_LEASE_TTL_S": str(self.ttl),
                "PDM_MQTT_SHARED_GROUP": "takeover",
            },
        )
        worker.start()
        self.workers[name] = worker

    def stop_leader(self, kill: bool) -> float:
        """Stop the holder of most leases; seconds until all of them have a live holder."""
        held = _leases(self.db)
        while len(held) < len(FLEET_JOBS):  # a previous round's leases still settling
            time.sleep(0.05)
            held = _leases(self.db)
        leader = max(set(held.values()), key=list(held.values()).count)
        jobs = {job for job, holder in held.items() if holder == leader}
        worker = self.workers.pop(leader)
        started = time.monotonic()
        if kill:
            os.kill(worker.pid, signal.SIGKILL)
        else:
            os.kill(worker.pid, signal.SIGTERM)
        while True:
            now = _leases(self.db)
            if all(now.get(job) in self.workers for job in jobs):
                seconds = time.monotonic() - started
                break
            time.sleep(0.02)
        worker.stop()  # reaps the process (already gone, or going)
        log.info(
            "%s of %s: %d leases taken over in %.2fs",
            "kill -9" if kill else "SIGTERM",
            leader,
            len(jobs),
            seconds,
        )
        return seconds

    def stop_all(self) -> None:
        for worker in self.workers.values():
            worker.stop()


def measure(ttl: float, rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        "SIGTERM (leases released)": [],
        "kill -9 (leases expire)": [],
    }
    with (
        tempfile.TemporaryDirectory(prefix="pdm-takeover-") as tmp,
        running_servers() as (pg, mq),
        phase_database(pg, []) as db,
    ):
        fleet = Fleet(db, mq.port, Path(tmp), ttl)
        try:
            for _ in range(WORKERS):
                fleet.start_one()
            for kind, kill in (
                ("SIGTERM (leases released)", False),
                ("kill -9 (leases expire)", True),
            ):
                for _ in range(rounds):
                    results[kind].append(fleet.stop_leader(kill))
                    fleet.start_one()
        finally:
            fleet.stop_all()
    return results


def render(results: dict[str, list[float]], ttl: float) -> str:
    lines = [
        "| leader stopped by | stops | takeover min | median | max | bound |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, seconds in results.items():
        # released: the others' next renewal; expired: the lease's life, then that renewal
        bound = ttl / 3 if kind.startswith("SIGTERM") else ttl * 4 / 3
        median = statistics.median(seconds)
        lines.append(
            f"| {kind} | {len(seconds)} | {min(seconds):.2f} s | {median:.2f} s |"
            f" {max(seconds):.2f} s | {bound:.1f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([Path(sys.executable).name, "-m", "bench.takeover", *given])
    code = code_version(REPO)
    if args.dead_member:
        with (
            tempfile.TemporaryDirectory(prefix="pdm-dead-member-") as tmp,
            running_servers() as (pg, mq),
        ):
            rows = measure_dead_member(pg, mq.port, Path(tmp), args.restart_after, args.seconds)
        table, section = render_dead_member(rows), "dead-member"
    else:
        table, section = render(measure(args.ttl, args.rounds), args.ttl), "takeover"
    print(table, flush=True)
    if not args.no_docs:
        write_run(args.docs, section=section, command=command, code=code, body=[table])


if __name__ == "__main__":
    main()
