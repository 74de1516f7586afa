"""``python app.py backfill``: months of realistic history, failures included, written
straight into the database, so pages and benchmarks have something to chew on.

The simulator's history generator (``simulator.bulk_history``) driven into the database: each
machine is one transaction: its readings (``data.bulk_readings``: binary ``COPY`` on
PostgreSQL, ``INSERT OR IGNORE`` in chunks on SQLite) together with its failures: the rule
alarms that would have been raised, a resolved, failure-confirmed ticket and a breakdown
downtime per failure; and planned stops, which leave a planned downtime only (they would fall
in a maintenance window; ``worker.backfill_events``).

Re-running is safe: a machine's readings are written only outside the span it already has
stored in the target range (so a backfill never interleaves with earlier data, live or
backfilled, and extends history around it), and only failures and stops clear of that span
are recorded. Inside the gap ``COPY`` goes straight into ``readings``; should it still collide
(live ingest writing the newest seconds meanwhile), that chunk goes through a staging table
and ``INSERT … ON CONFLICT DO NOTHING`` instead.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session
from tqdm import tqdm

from data.bulk_readings import stored_bounds, write_readings
from data.db import Database, upgrade_schema
from data.fleet_queries import (
    MachineSpec,
    active_technician_ids,
    backdate_machines,
    ensure_fleet,
    machine_sensor_ids,
)
from data.rollup import ROLLUP_S, roll_up
from data.timescale import aggregates_in_use
from data.value_steps import binary_step, on_step
from simulator.bulk_history import Grid, generate, plan_machine
from simulator.fleet_physics import FaultEpisode, MachineDef, demo_fleet
from simulator.limit_crossings import Window, crossings
from worker.backfill_events import CLEAR_AFTER_S, RULE_WINDOW_S, HistoryEvents

__all__ = ["BackfillResult", "backfill", "check_backfill"]

log = logging.getLogger(__name__)

MAX_INTERVAL_S = 3600.0


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What a backfill wrote; ``episodes`` are the failures recorded (ground truth)."""

    machines: int
    readings: int  # inserted
    skipped: int  # generated but not written: the machine already had data there
    failures: int
    planned_stops: int
    first: datetime  # first and last tick of the range
    last: datetime
    seconds: float
    episodes: tuple[FaultEpisode, ...] = ()

    @property
    def rows_per_s(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"backfilled {self.machines} machines from {self.first:%Y-%m-%d %H:%M} to "
            f"{self.last:%Y-%m-%d %H:%M} UTC: {self.readings:,} readings written "
            f"({self.skipped:,} skipped: stored already), failures: {self.failures}, "
            f"planned stops: {self.planned_stops}, in {self.seconds:.1f} s "
            f"({self.rows_per_s:,.0f} readings/s)"
        )


@dataclass(frozen=True, slots=True)
class _Run:
    grid: Grid
    seed: int
    mean_days_between_failures: float
    technicians: tuple[int, ...]
    bar: tqdm
    lock: threading.Lock
    resolution: dict[str, float]

    def advance(self, readings: int) -> None:
        with self.lock:
            self.bar.update(readings)


@dataclass(slots=True)
class _Written:
    readings: int = 0
    skipped: int = 0
    stops: int = 0
    episodes: tuple[FaultEpisode, ...] = ()


def backfill(
    *,
    db: Database,
    machines: int,
    days: float,
    interval_s: float = 10,
    seed: int = 7,
    end: datetime | None = None,
    mean_days_between_failures: float = 10.0,
    progress: bool = True,
    workers: int | None = None,
    resolution: Mapping[str, float] | None = None,
) -> BackfillResult:
    """Write ``days`` of demo-fleet history ending at ``end`` (default now), one sample per
    sensor every ``interval_s``, with random failures; reproducible from ``seed``.
    ``workers`` machines are written at once (PostgreSQL only; default up to 4, one per core);
    ``resolution``: sensor kind -> resolution its values are stored at, as ingest stores them
    (``PDM_STORE_RESOLUTION``, ``data.value_steps``)."""
    check_backfill(machines, days, interval_s, mean_days_between_failures)
    workers = _workers(db, workers)
    started = time.perf_counter()
    grid = Grid.ending(end or datetime.now(UTC), days=days, interval_s=interval_s)
    upgrade_schema(db.engine)
    fleet = demo_fleet(machines)
    with db.session() as session:
        ensure_fleet(session=session, machines=[MachineSpec.like(m) for m in fleet])
        # the machines existed as long as their history: reports count hours in service
        backdate_machines(session=session, names=[m.name for m in fleet], created_at=grid.at(0))
        technicians = active_technician_ids(session=session)
    total = sum(len(m.sensors) for m in fleet) * grid.n
    with tqdm(
        total=total, unit=" readings", unit_scale=True, desc="backfill", disable=not progress
    ) as bar:
        run = _Run(
            grid,
            seed,
            mean_days_between_failures,
            technicians,
            bar,
            threading.Lock(),
            dict(resolution or {}),
        )
        done = _all_machines(db, run, fleet, workers)
    _roll_up_range(db, grid.at(0), grid.at(grid.n - 1) + timedelta(seconds=1), progress)
    result = BackfillResult(
        machines=machines,
        readings=sum(w.readings for w in done),
        skipped=sum(w.skipped for w in done),
        failures=sum(len(w.episodes) for w in done),
        planned_stops=sum(w.stops for w in done),
        first=grid.at(0),
        last=grid.at(grid.n - 1),
        seconds=time.perf_counter() - started,
        episodes=tuple(e for w in done for e in w.episodes),
    )
    log.info("%s", result.summary())
    return result


def _roll_up_range(db: Database, first: datetime, last: datetime, progress: bool) -> None:
    """Ten-minute rollups of what was written, a day per transaction (the machine page
    draws long ranges from them); nothing to do on TimescaleDB's aggregates."""
    if aggregates_in_use(db.engine):
        return  # TimescaleDB's continuous aggregates pick the new readings up themselves
    days = max(1, int((last - first) / timedelta(days=1)) + 1)
    with tqdm(total=days, unit=" days", desc="rollups", disable=not progress) as bar:
        day = first
        while day < last:
            stop = min(day + timedelta(days=1), last + timedelta(seconds=ROLLUP_S))
            with db.session() as session:
                roll_up(session, day, stop)
            bar.update(1)
            day = stop


def check_backfill(machines: int, days: float, interval_s: float, mtbf_days: float) -> None:
    """Refuse arguments no backfill can honour (ValueError saying why)."""
    if machines < 1:
        raise ValueError("machines must be at least 1")
    if not 0 < interval_s <= MAX_INTERVAL_S:
        raise ValueError(f"interval must be over 0 and at most {MAX_INTERVAL_S:g} s")
    if not days * 86_400 >= interval_s:
        raise ValueError("days must cover at least one interval")
    if not mtbf_days > 0:
        raise ValueError("mean days between failures must be positive")


def _workers(db: Database, asked: int | None) -> int:
    # COPY is bound by one PostgreSQL backend per connection (the foreign-key check and the
    # two indexes of readings cost most), so machines in parallel use the other cores. SQLite
    # has a single writer: parallel transactions would only wait for each other.
    if db.dialect != "postgresql":
        return 1
    return max(1, asked or min(4, os.cpu_count() or 1))


def _all_machines(db: Database, run: _Run, fleet: list[MachineDef], workers: int) -> list[_Written]:
    if workers == 1:
        return [_machine(db, run, i, m) for i, m in enumerate(fleet)]
    with ThreadPoolExecutor(workers, thread_name_prefix="backfill") as pool:
        futures = [pool.submit(_machine, db, run, i, m) for i, m in enumerate(fleet)]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:  # stop what has not started; running machines roll back or end
                f.cancel()
            raise


def _machine(db: Database, run: _Run, index: int, machine: MachineDef) -> _Written:
    """One machine in one transaction: readings outside its stored span, then its events."""
    grid = run.grid
    rng = np.random.default_rng([run.seed, index, 0])
    plan = plan_machine(
        machine, grid=grid, rng=rng, mean_days_between_failures=run.mean_days_between_failures
    )
    lead, tail = max(1, grid.ticks(RULE_WINDOW_S)), grid.ticks(CLEAR_AFTER_S) + 1
    written = _Written()
    steps = [run.resolution.get(s.kind) for s in machine.sensors]
    with db.session() as session:
        machine_id, sensor_ids = _ids(session, machine)
        span = _stored_span(session, list(sensor_ids.values()), grid)
        faults = [f for f in plan.faults if not _overlaps(span, f.onset - lead, f.repaired + tail)]
        stops = [s for s in plan.stops if not _overlaps(span, s[0] - lead, s[1] + tail)]
        windows = [Window(max(0, f.onset - lead), f.repaired) for f in faults]
        for chunk in generate(plan, grid=grid, rng=np.random.default_rng([run.seed, index, 1])):
            for window in windows:
                window.feed(chunk)
            keep = _outside(span, chunk.start, chunk.ts_us.size)
            written.readings += write_readings(
                session=session,
                sensor_ids=list(sensor_ids.values()),
                ts_us=chunk.ts_us[keep],
                values=_on_steps(chunk.values[:, keep], steps),
            )
            written.skipped += int(chunk.values.shape[0] * (~keep).sum())
            run.advance(chunk.values.size)
        events = HistoryEvents(
            session,
            grid=grid,
            plan=plan,
            machine_id=machine_id,
            sensor_ids=sensor_ids,
            technicians=run.technicians,
            rng=np.random.default_rng([run.seed, index, 2]),
            first=index,
        )
        written.episodes = tuple(
            events.failure(f, crossings(w, machine.sensors, mean_ticks=lead))
            for f, w in zip(faults, windows, strict=True)
        )
        for start, end in stops:
            events.stop(start, end)
        written.stops = len(stops)
    return written


def _on_steps(values: np.ndarray, resolutions: list[float | None]) -> np.ndarray:
    """Each sensor's row of values on its binary step, as ingest stores them."""
    if not any(resolutions):
        return values
    out = values.copy()
    for row, resolution in enumerate(resolutions):
        if resolution:
            out[row] = on_step(values[row], binary_step(resolution))
    return out


def _ids(session: Session, machine: MachineDef) -> tuple[int, dict[str, int]]:
    found = machine_sensor_ids(session=session, name=machine.name)
    assert found is not None  # ensure_fleet created it
    machine_id, ids = found
    return machine_id, {s.key: ids[s.key] for s in machine.sensors}


def _stored_span(session: Session, sensor_ids: list[int], grid: Grid) -> tuple[int, int] | None:
    """Ticks from the machine's first to its last stored reading in the range, if any."""
    bounds = stored_bounds(
        session=session, sensor_ids=sensor_ids, start=grid.at(0), end=grid.at(grid.n - 1)
    )
    if bounds is None:
        return None
    return math.floor(grid.position(bounds[0])), math.ceil(grid.position(bounds[1]))


def _overlaps(span: tuple[int, int] | None, start: int, end: int) -> bool:
    return span is not None and start <= span[1] and span[0] <= end


def _outside(span: tuple[int, int] | None, start: int, n: int) -> np.ndarray:
    idx = np.arange(start, start + n)
    if span is None:
        return np.ones(n, dtype=bool)
    return (idx < span[0]) | (idx > span[1])
