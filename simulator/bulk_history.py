"""Months of fleet history at once: the physics of ``simulator.fleet_physics``, vectorised
with numpy.

Samples lie on a fixed grid of ticks (``Grid``); faults and planned stops begin and end on
ticks, so "the machine was down from A to B" and the samples agree exactly. Each machine is
planned first (``plan_machine``: random faults and stops, reproducible from a seed), then
generated in chunks of ticks (``generate``) so memory stays bounded however long the history;
``simulator.limit_crossings`` reads the limits broken around a fault off those chunks. Like the
rest of the simulator, this imports nothing of the app.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from simulator.fleet_physics import (
    AMBIENT_C,
    FAULT_HOURS,
    FAULT_MODES,
    IMBALANCE_PERIOD_S,
    LOAD_CYCLE_S,
    MACHINE_TYPES,
    MachineDef,
    load_factor,
    temperature_target,
    vibration_factor,
)

__all__ = [
    "Grid",
    "Fault",
    "Plan",
    "Chunk",
    "plan_machine",
    "generate",
    "lag",
    "REPAIR_HOURS",
    "STOP_HOURS",
    "STOP_EVERY_DAYS",
]

REPAIR_HOURS = (1.0, 4.0)  # a broken machine waits this long for its repair
STOP_HOURS = (1.0, 2.0)  # planned maintenance stops the machine this long…
STOP_EVERY_DAYS = 14.0  # …about this often
CHUNK_TICKS = 1 << 17  # ticks generated at once per machine: a few MB of arrays
# fleet.py moves the temperature 20 % of the way to its target per sample while running and
# 5 % while stopped; at the demo's 60 physics seconds per sample those are these time constants.
TAU_RUN_S = 60.0 / math.log(1 / 0.8)
TAU_STOP_S = 60.0 / math.log(1 / 0.95)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = 3600.0


def to_us(when: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given; use UTC-aware datetimes")
    return (when - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


@dataclass(frozen=True, slots=True)
class Grid:
    """``n`` ticks ``step_us`` microseconds apart, the last at ``end_us``: (end - n·step, end]."""

    end_us: int
    step_us: int
    n: int

    @classmethod
    def ending(cls, end: datetime, *, days: float, interval_s: float) -> Grid:
        """The ticks of ``days`` before ``end``, rounded down to a multiple of the interval."""
        step = round(interval_s * 1_000_000)
        if step <= 0:
            raise ValueError("interval must be at least a microsecond")
        return cls(to_us(end) // step * step, step, round(days * 86_400_000_000) // step)

    @property
    def interval_s(self) -> float:
        return self.step_us / 1e6

    def us(self, i: int) -> int:
        return self.end_us - (self.n - 1 - i) * self.step_us

    def at(self, i: int) -> datetime:
        return from_us(self.us(i))

    def times(self, lo: int, hi: int) -> np.ndarray:
        """Epoch microseconds of ticks ``lo`` … ``hi - 1``."""
        return self.us(lo) + np.arange(hi - lo, dtype=np.int64) * self.step_us

    def position(self, when: datetime) -> float:
        """Where ``when`` falls on the grid, in ticks (fractional between ticks)."""
        return (to_us(when) - self.us(0)) / self.step_us

    def ticks(self, seconds: float) -> int:
        return round(seconds / self.interval_s)


@dataclass(frozen=True, slots=True)
class Fault:
    """Ground truth, in ticks: degradation from ``onset``, down from ``failure`` to ``repaired``."""

    mode: str
    onset: int
    failure: int
    repaired: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What happens to one machine: its faults and planned stops (ticks, [start, end))."""

    machine: MachineDef
    phase: float
    faults: tuple[Fault, ...]
    stops: tuple[tuple[int, int], ...]


def plan_machine(
    machine: MachineDef,
    *,
    grid: Grid,
    rng: np.random.Generator,
    mean_days_between_failures: float,
    margin_s: float = _HOUR,
) -> Plan:
    """Random faults (exponential gaps) and planned stops that avoid them; every one of them
    is over, repair included, ``margin_s`` before the last tick."""
    phase = float(rng.uniform(0, 2 * math.pi))
    last = grid.n - grid.ticks(margin_s)
    faults: list[Fault] = []
    at = 0
    while math.isfinite(mean_days_between_failures):
        onset = at + grid.ticks(rng.exponential(mean_days_between_failures * 86_400))
        failure = onset + max(1, grid.ticks(rng.uniform(*FAULT_HOURS) * _HOUR))
        repaired = failure + max(1, grid.ticks(rng.uniform(*REPAIR_HOURS) * _HOUR))
        mode = FAULT_MODES[int(rng.integers(len(FAULT_MODES)))]
        if repaired > last:
            break
        faults.append(Fault(mode, onset, failure, repaired))
        at = repaired
    return Plan(machine, phase, tuple(faults), _plan_stops(grid, rng, faults, last))


def _plan_stops(
    grid: Grid, rng: np.random.Generator, faults: list[Fault], last: int
) -> tuple[tuple[int, int], ...]:
    gap = grid.ticks(_HOUR)  # keep stops clear of faults, so alarms belong to one or the other
    stops: list[tuple[int, int]] = []
    at = 0
    while True:
        start = at + grid.ticks(rng.exponential(STOP_EVERY_DAYS * 86_400))
        end = start + max(1, grid.ticks(rng.uniform(*STOP_HOURS) * _HOUR))
        if end > last:
            return tuple(stops)
        if not any(start < f.repaired + gap and f.onset - gap < end for f in faults):
            stops.append((start, end))
        at = end


@dataclass(slots=True)
class Chunk:
    """Ticks ``start`` … ``start + len(ts_us) - 1`` of one machine: one row per sensor."""

    start: int
    ts_us: np.ndarray  # int64 epoch microseconds
    values: np.ndarray  # float64, shape (sensors, ticks), in the machine's sensor order


def generate(
    plan: Plan, *, grid: Grid, rng: np.random.Generator, chunk_ticks: int = CHUNK_TICKS
) -> Iterator[Chunk]:
    """The machine's samples, chunk by chunk; the temperature carries over between chunks."""
    temp = MACHINE_TYPES[plan.machine.type].temp
    for lo in range(0, grid.n, chunk_ticks):
        hi = min(grid.n, lo + chunk_ticks)
        chunk, temp = _chunk(plan, grid, rng, lo, hi, temp)
        yield chunk


def _chunk(
    plan: Plan, grid: Grid, rng: np.random.Generator, lo: int, hi: int, temp0: float
) -> tuple[Chunk, float]:
    k = MACHINE_TYPES[plan.machine.type]
    ts = grid.times(lo, hi)
    t = ts / 1e6
    health, down = _state(plan, lo, hi)
    h_bearing, h_cooling, h_imbalance = (
        health[m] for m in ("bearing_wear", "cooling_fault", "imbalance")
    )
    load = load_factor(np.sin(2 * np.pi * t / LOAD_CYCLE_S + plan.phase))
    target = np.where(down, AMBIENT_C, temperature_target(k, load, h_cooling, h_bearing))
    keep = np.exp(-grid.interval_s / np.where(down, TAU_STOP_S, TAU_RUN_S))
    temp = lag(target, keep, temp0)
    z = rng.standard_normal((3, hi - lo))
    vib_factor = vibration_factor(h_bearing, h_imbalance)
    running_vib = np.maximum(0.0, k.vibration * vib_factor * (1 + 0.05 * z[1]))
    running_rpm = k.rpm * (0.98 + 0.04 * load) + k.rpm * 0.003 * z[2]
    running_rpm += k.rpm * 0.08 * h_imbalance * np.sin(2 * np.pi * t / IMBALANCE_PERIOD_S)
    by_key = {
        "temperature": np.round(temp + z[0] * np.where(down, 0.3, 0.4), 2),
        "vibration": np.round(np.where(down, np.abs(0.05 + 0.02 * z[1]), running_vib), 3),
        "rpm": np.round(np.where(down, 0.0, running_rpm), 1),
    }
    values = np.stack([by_key[s.key] for s in plan.machine.sensors])
    return Chunk(lo, ts, values), float(temp[-1])


def _state(plan: Plan, lo: int, hi: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per fault mode, the health ramp (0 → 1 from onset to failure); and whether stopped."""
    health = {m: np.zeros(hi - lo) for m in FAULT_MODES}
    down = np.zeros(hi - lo, dtype=bool)
    idx = np.arange(lo, hi)
    for f in plan.faults:
        if f.onset < hi and f.repaired > lo:
            ramp = (idx >= f.onset) & (idx < f.failure)
            health[f.mode][ramp] = (idx[ramp] - f.onset) / (f.failure - f.onset)
            down[max(f.failure, lo) - lo : max(min(f.repaired, hi) - lo, 0)] = True
    for start, end in plan.stops:
        if start < hi and end > lo:
            down[max(start, lo) - lo : min(end, hi) - lo] = True
    return health, down


def lag(target: np.ndarray, keep: np.ndarray, x0: float) -> np.ndarray:
    """First-order lag ``x[i] = keep[i]·x[i-1] + (1 - keep[i])·target[i]``, vectorised.

    Solved in closed form per block, x[i] = P[i]·(x0 + Σ_{j≤i} c[j]/P[j]) with P the running
    product of ``keep``; blocks are short enough that 1/P stays far from overflowing."""
    out = np.empty_like(target)
    block = max(1, int(600 / max(-math.log(float(keep.min())), 1e-12)))
    for lo in range(0, len(target), block):
        b, c = keep[lo : lo + block], (1 - keep[lo : lo + block]) * target[lo : lo + block]
        log_p = np.cumsum(np.log(b))
        out[lo : lo + block] = np.exp(log_p) * (x0 + np.cumsum(c * np.exp(-log_p)))
        x0 = float(out[lo + len(b) - 1])
    return out
