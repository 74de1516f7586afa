"""``python -m simulator backfill``: months of realistic history, failures included, written
straight into the database, so pages and benchmarks have something to chew on.

The one simulator command that touches the database (and the only simulator module that
imports the app: ``config`` and ``data``). Readings come from ``simulator.history``; each
machine is one transaction: its readings (binary ``COPY`` on PostgreSQL, ``INSERT OR IGNORE``
in chunks on SQLite) together with its failures: the rule alarms that would have been raised,
a resolved, failure-confirmed ticket and a breakdown downtime per failure; and planned
stops, which leave a planned downtime only (they would fall in a maintenance window).

Re-running is safe: a machine's readings are written only outside the span it already has
stored in the target range (so a backfill never interleaves with earlier data, live or
backfilled, and extends history around it), and only failures and stops clear of that span
are recorded. Inside the gap ``COPY`` goes straight into ``readings``; should it still collide
(live ingest writing the newest seconds meanwhile), that chunk goes through a staging table
and ``INSERT … ON CONFLICT DO NOTHING`` instead.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from config import Settings
from data.db import Database, upgrade_schema
from data.fleet import MachineSpec, ensure_fleet
from data.models import (
    Alarm,
    AlarmSource,
    Downtime,
    DowntimeKind,
    Machine,
    Priority,
    Reading,
    Role,
    Sensor,
    Severity,
    Ticket,
    TicketStatus,
    User,
)
from data.rollup import ROLLUP_S, roll_up
from simulator.bulk import write_readings
from simulator.fleet import FaultEpisode, MachineDef, demo_fleet
from simulator.history import (
    Crossing,
    Fault,
    Grid,
    Plan,
    Window,
    crossings,
    generate,
    plan_machine,
)

__all__ = ["BackfillResult", "backfill", "main"]

log = logging.getLogger(__name__)

SOURCE = "backfill"
# the rules job's defaults: mean over this window, clear this long after the condition ends
RULE_WINDOW_S = float(Settings.model_fields["rules_window_s"].default)
CLEAR_AFTER_S = float(Settings.model_fields["alarm_clear_after_s"].default)
MAX_INTERVAL_S = 3600.0
_CODES = {"temperature": "TEMP", "vibration": "VIB", "rpm": "RPM"}  # maintenance.rules codes
_RESOLUTIONS = {
    "bearing_wear": "Replaced the worn drive-end bearing and regreased; vibration back to normal.",
    "cooling_fault": "Cleared the clogged cooler and refilled coolant; temperature back to normal.",
    "imbalance": "Rebalanced the rotor and retightened the coupling; vibration back to normal.",
}


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
) -> BackfillResult:
    """Write ``days`` of demo-fleet history ending at ``end`` (default now), one sample per
    sensor every ``interval_s``, with random failures; reproducible from ``seed``.
    ``workers`` machines are written at once (PostgreSQL only; default up to 4, one per core)."""
    _check(machines, days, interval_s, mean_days_between_failures)
    workers = _workers(db, workers)
    started = time.perf_counter()
    grid = Grid.ending(end or datetime.now(UTC), days=days, interval_s=interval_s)
    upgrade_schema(db.engine)
    fleet = demo_fleet(machines)
    with db.session() as session:
        ensure_fleet(session=session, machines=[MachineSpec.like(m) for m in fleet])
        # the machines existed as long as their history: reports count hours in service
        session.execute(
            update(Machine)
            .where(Machine.name.in_([m.name for m in fleet]), Machine.created_at > grid.at(0))
            .values(created_at=grid.at(0))
        )
        technicians = tuple(
            session.scalars(
                select(User.id).where(User.role == Role.TECHNICIAN, User.active).order_by(User.id)
            )
        )
    total = sum(len(m.sensors) for m in fleet) * grid.n
    with tqdm(
        total=total, unit=" readings", unit_scale=True, desc="backfill", disable=not progress
    ) as bar:
        run = _Run(grid, seed, mean_days_between_failures, technicians, bar, threading.Lock())
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
    draws long ranges from them)."""
    days = max(1, int((last - first) / timedelta(days=1)) + 1)
    with tqdm(total=days, unit=" days", desc="rollups", disable=not progress) as bar:
        day = first
        while day < last:
            stop = min(day + timedelta(days=1), last + timedelta(seconds=ROLLUP_S))
            with db.session() as session:
                roll_up(session, day, stop)
            bar.update(1)
            day = stop


def _check(machines: int, days: float, interval_s: float, mtbf_days: float) -> None:
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
                values=chunk.values[:, keep],
            )
            written.skipped += int(chunk.values.shape[0] * (~keep).sum())
            run.advance(chunk.values.size)
        events = _Events(session, run, plan, machine_id, sensor_ids, index)
        written.episodes = tuple(
            events.failure(f, crossings(w, machine.sensors, mean_ticks=lead))
            for f, w in zip(faults, windows, strict=True)
        )
        for start, end in stops:
            events.stop(start, end)
        written.stops = len(stops)
    return written


def _ids(session: Session, machine: MachineDef) -> tuple[int, dict[str, int]]:
    machine_id = session.scalar(select(Machine.id).where(Machine.name == machine.name))
    assert machine_id is not None  # ensure_fleet created it
    rows = session.execute(select(Sensor.key, Sensor.id).where(Sensor.machine_id == machine_id))
    ids = {key: sid for key, sid in rows}
    return machine_id, {s.key: ids[s.key] for s in machine.sensors}


def _stored_span(session: Session, sensor_ids: list[int], grid: Grid) -> tuple[int, int] | None:
    """Ticks from the machine's first to its last stored reading in the range, if any."""
    lo: datetime | None = None
    hi: datetime | None = None
    for sid in sensor_ids:  # one sensor at a time: min/max come straight off the primary key
        first, last = session.execute(
            select(func.min(Reading.ts), func.max(Reading.ts)).where(
                Reading.sensor_id == sid,
                Reading.ts >= grid.at(0),
                Reading.ts <= grid.at(grid.n - 1),
            )
        ).one()
        if first is not None:
            lo, hi = min(lo or first, first), max(hi or last, last)
    if lo is None or hi is None:
        return None
    return math.floor(grid.position(lo)), math.ceil(grid.position(hi))


def _overlaps(span: tuple[int, int] | None, start: int, end: int) -> bool:
    return span is not None and start <= span[1] and span[0] <= end


def _outside(span: tuple[int, int] | None, start: int, n: int) -> np.ndarray:
    idx = np.arange(start, start + n)
    if span is None:
        return np.ones(n, dtype=bool)
    return (idx < span[0]) | (idx > span[1])


class _Events:
    """The records a failure or a planned stop leaves behind, written through the ORM."""

    def __init__(
        self,
        session: Session,
        run: _Run,
        plan: Plan,
        machine_id: int,
        sensor_ids: dict[str, int],
        index: int,
    ) -> None:
        self.session, self.grid, self.plan = session, run.grid, plan
        self.machine_id, self.sensor_ids, self.technicians = machine_id, sensor_ids, run.technicians
        self.rng = np.random.default_rng([run.seed, index, 2])
        self.count = index  # spreads tickets over the technicians

    def failure(self, fault: Fault, hits: list[Crossing]) -> FaultEpisode:
        """Rule alarms as raised, a resolved failure-confirmed ticket, a breakdown downtime."""
        at = self.grid.at
        failed, repaired = at(fault.failure), at(fault.repaired)
        alarms = [self._alarm(hit, repaired) for hit in hits]
        self.session.add_all(alarms)
        self.session.flush()
        ticket = self._ticket(fault, alarms[0] if alarms else None)
        self.session.add(ticket)
        self.session.flush()
        self.session.add(
            Downtime(
                machine_id=self.machine_id,
                kind=DowntimeKind.BREAKDOWN,
                started_at=failed,
                ended_at=repaired,
                ticket_id=ticket.id,
                source=SOURCE,
                note=f"Breakdown: {fault.mode.replace('_', ' ')}",
                created_at=repaired,
            )
        )
        return FaultEpisode(self.plan.machine.name, fault.mode, at(fault.onset), failed, repaired)

    def stop(self, start: int, end: int) -> None:
        self.session.add(
            Downtime(
                machine_id=self.machine_id,
                kind=DowntimeKind.PLANNED,
                started_at=self.grid.at(start),
                ended_at=self.grid.at(end),
                source=SOURCE,
                note="Planned maintenance: inspection and lubrication",
                created_at=self.grid.at(start),
            )
        )

    def _alarm(self, hit: Crossing, repaired: datetime) -> Alarm:
        sensor = hit.sensor
        severity = Severity.CRITICAL if hit.critical else Severity.WARNING
        side = "above" if hit.side == "HIGH" else "below"
        name = self.plan.machine.name
        return Alarm(
            machine_id=self.machine_id,
            sensor_id=self.sensor_ids[sensor.key],
            code=f"{_CODES.get(sensor.kind, sensor.kind.upper()[:8])}_{hit.side}",
            severity=severity,
            source=AlarmSource.RULE,
            message=f"{name}: {sensor.kind} {hit.value:.1f} {sensor.unit} {side} "
            f"{severity.value.lower()} limit {hit.limit:g}",
            value=hit.value,
            raised_value=hit.value,
            limit_value=hit.limit,
            unit=sensor.unit,
            values_at=self.grid.at(hit.last_seen),
            raised_at=self.grid.at(hit.raised),
            last_seen_at=self.grid.at(hit.last_seen),
            cleared_at=repaired + timedelta(seconds=CLEAR_AFTER_S),
        )

    def _ticket(self, fault: Fault, alarm: Alarm | None) -> Ticket:
        failed, repaired = self.grid.at(fault.failure), self.grid.at(fault.repaired)
        response = timedelta(seconds=round(float(self.rng.uniform(600, 1800))))
        technician = (
            self.technicians[self.count % len(self.technicians)] if self.technicians else None
        )
        self.count += 1
        critical = alarm is None or alarm.severity is Severity.CRITICAL
        return Ticket(
            machine_id=self.machine_id,
            alarm_id=alarm.id if alarm else None,
            code=alarm.code if alarm else "BREAKDOWN",
            title=alarm.message if alarm else f"{self.plan.machine.name}: breakdown",
            priority=Priority.CRITICAL if critical else Priority.HIGH,
            status=TicketStatus.RESOLVED,
            technician_id=technician,
            assignment_reason="generated history (backfill)",
            created_at=alarm.raised_at if alarm else failed,
            started_at=min(failed + response, repaired),
            resolved_at=repaired,
            resolution=_RESOLUTIONS[fault.mode],
            failure_confirmed=True,
        )


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """``python -m simulator backfill --machines N --days D [...]``"""
    p = argparse.ArgumentParser(
        prog="python -m simulator backfill",
        description="Write realistic demo-fleet history with failures straight into the "
        "database (machines motor-01, pump-01, compressor-01, … as the live demo).",
    )
    p.add_argument("--database-url", help="default: PDM_DATABASE_URL, else the SQLite file")
    p.add_argument("--machines", type=int, help="default: PDM_DEMO_MACHINES (6)")
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end", type=_when, help="ISO time of the last sample (UTC if no offset)")
    p.add_argument("--mean-days-between-failures", type=float, default=10.0)
    p.add_argument("--workers", type=int, help="machines written at once (PostgreSQL)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    url, machines = _defaults(args.database_url, args.machines)
    try:
        _check(machines, args.days, args.interval, args.mean_days_between_failures)
    except ValueError as err:
        p.error(str(err))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    db = Database(url)
    try:
        result = backfill(
            db=db,
            machines=machines,
            days=args.days,
            interval_s=args.interval,
            seed=args.seed,
            end=args.end,
            mean_days_between_failures=args.mean_days_between_failures,
            progress=not args.no_progress,
            workers=args.workers,
        )
    finally:
        db.dispose()
    print(result.summary())


def _defaults(url: str | None, machines: int | None) -> tuple[str, int]:
    """The database and fleet size not given on the command line come from the settings."""
    if url and machines is not None:
        return url, machines
    settings = Settings()
    return url or settings.effective_database_url, (
        settings.demo_machines if machines is None else machines
    )


def _when(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
