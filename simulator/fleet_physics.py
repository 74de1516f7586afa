"""A fleet of machines with load cycles, noise and slow degradation into named failures.

Timestamps are wall-clock time; ``speed`` only accelerates the physics (load cycles,
wear), so accelerated data still passes the ingest's clock checks. Every fault
episode is recorded as ground truth (onset and failure, in wall-clock time).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "SensorDef",
    "MachineDef",
    "FaultEpisode",
    "FleetSimulator",
    "demo_fleet",
    "MACHINE_TYPES",
    "FAULT_MODES",
    "FAULT_HOURS",
    "AMBIENT_C",
    "LOAD_CYCLE_S",
    "IMBALANCE_PERIOD_S",
    "load_factor",
    "temperature_target",
    "vibration_factor",
]

FAULT_MODES = ("bearing_wear", "cooling_fault", "imbalance")
_HOUR = 3600.0
FAULT_HOURS = (3.0, 6.0)  # a fault ramps from onset to failure in this many hours
AMBIENT_C = 25.0  # a stopped machine cools towards this
LOAD_CYCLE_S = 8 * _HOUR  # one shift: the load swings once around its mean
IMBALANCE_PERIOD_S = 40.0  # an unbalanced rotor makes the speed wobble with this period


# The formulas below are plain arithmetic so that they serve both the live simulator (floats)
# and the vectorised history generator (numpy arrays, simulator/bulk_history.py). A health ``h_*``
# is 0 when healthy and rises to 1 at failure; it is 0 for every mode but the machine's fault.
Level = TypeVar("Level", float, "np.ndarray")  # one float, or one per sample


def load_factor(sin_of_phase: Level) -> Level:
    """Fraction of nominal load, given the sine of the machine's position in its shift."""
    return 0.75 + 0.2 * sin_of_phase


def temperature_target(kind: MachineType, load: Level, h_cooling: Level, h_bearing: Level) -> Level:
    """The temperature a running machine settles at (°C)."""
    return kind.temp + 10 * (load - 0.75) + 35 * h_cooling**1.5 + 5 * h_bearing


def vibration_factor(h_bearing: Level, h_imbalance: Level) -> Level:
    """Vibration as a multiple of the healthy level: worn bearings grow fast near the end."""
    return 1 + 4 * h_bearing**2 + 2.5 * h_imbalance


@dataclass(frozen=True, slots=True)
class SensorDef:
    key: str
    kind: str
    unit: str
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None


@dataclass(frozen=True, slots=True)
class MachineType:
    name: str
    temp: float  # °C at nominal load
    vibration: float  # mm/s RMS when healthy
    rpm: float

    def sensors(self) -> tuple[SensorDef, ...]:
        return (
            SensorDef(
                "temperature",
                "temperature",
                "°C",
                warn_high=self.temp + 15,
                crit_high=self.temp + 25,
            ),
            SensorDef(
                "vibration",
                "vibration",
                "mm/s",
                warn_high=round(self.vibration * 2, 2),
                crit_high=round(self.vibration * 3, 2),
            ),
            SensorDef(
                "rpm",
                "rpm",
                "rpm",
                warn_low=self.rpm * 0.9,
                crit_low=self.rpm * 0.8,
                warn_high=self.rpm * 1.1,
                crit_high=self.rpm * 1.2,
            ),
        )


MACHINE_TYPES = {
    "motor": MachineType("motor", temp=55.0, vibration=1.8, rpm=1480.0),
    "pump": MachineType("pump", temp=45.0, vibration=2.5, rpm=2950.0),
    "compressor": MachineType("compressor", temp=70.0, vibration=3.5, rpm=1800.0),
}


@dataclass(frozen=True, slots=True)
class MachineDef:
    name: str
    type: str
    location: str
    line: str
    sensors: tuple[SensorDef, ...]


def demo_fleet(n: int) -> list[MachineDef]:
    """``n`` machines cycling through the types: motor-01, pump-01, compressor-01, motor-02…"""
    types = list(MACHINE_TYPES)
    out = []
    for i in range(n):
        kind = MACHINE_TYPES[types[i % len(types)]]
        number = i // len(types) + 1
        out.append(
            MachineDef(
                f"{kind.name}-{number:02d}",
                kind.name,
                f"Hall {'AB'[i % 2]}",
                f"Line {i % 4 + 1}",
                kind.sensors(),
            )
        )
    return out


@dataclass(slots=True)
class FaultEpisode:
    """Ground truth: a fault that begins at ``onset`` and ends in failure at ``failure``."""

    machine: str
    mode: str
    onset: datetime
    failure: datetime
    repaired: datetime


@dataclass(slots=True)
class _State:
    machine: MachineDef
    kind: MachineType
    temp: float
    phase: float
    next_onset_sim: float
    fault: tuple[str, float, float] | None = None  # mode, onset_sim, failure_sim
    down_until_sim: float = -1.0
    rng: random.Random = field(default_factory=random.Random)


class FleetSimulator:
    """Advances every machine to a wall-clock instant and returns one sample per sensor."""

    def __init__(
        self,
        machines: list[MachineDef],
        *,
        speed: float = 60.0,
        seed: int = 7,
        start: float,
        first_fault_after_s: float | None = 30.0,
        fault_hours: tuple[float, float] = (3.0, 6.0),
        mean_hours_between_faults: float = 48.0,
        repair_hours: float = 1.0,
    ) -> None:
        self.speed, self.start = speed, start
        self.fault_hours, self.mtbf_h, self.repair_h = (
            fault_hours,
            mean_hours_between_faults,
            repair_hours,
        )
        self.episodes: list[FaultEpisode] = []
        rng = random.Random(seed)
        self._states = [self._new_state(m, rng) for m in machines]
        if first_fault_after_s is not None and self._states:
            self._states[0].next_onset_sim = first_fault_after_s * speed

    def _new_state(self, m: MachineDef, rng: random.Random) -> _State:
        kind = MACHINE_TYPES[m.type]
        st = _State(
            m, kind, kind.temp, rng.uniform(0, 2 * math.pi), 0.0, rng=random.Random(rng.random())
        )
        st.next_onset_sim = st.rng.expovariate(1 / (self.mtbf_h * _HOUR))
        return st

    def sim_seconds(self, wall: float) -> float:
        return (wall - self.start) * self.speed

    def wall_time(self, sim: float) -> datetime:
        return datetime.fromtimestamp(self.start + sim / self.speed, UTC)

    def sample(self, wall: float) -> dict[str, dict[str, float]]:
        """Every machine's sensor values at wall-clock time ``wall``."""
        t = self.sim_seconds(wall)
        return {st.machine.name: self._sample_one(st, t) for st in self._states}

    def _sample_one(self, st: _State, t: float) -> dict[str, float]:
        self._advance_faults(st, t)
        rng, k = st.rng, st.kind
        if t < st.down_until_sim:  # broken down, waiting for repair
            st.temp += (AMBIENT_C - st.temp) * 0.05
            return {
                "temperature": round(st.temp + rng.gauss(0, 0.3), 2),
                "vibration": round(abs(rng.gauss(0.05, 0.02)), 3),
                "rpm": 0.0,
            }
        load = load_factor(math.sin(2 * math.pi * t / LOAD_CYCLE_S + st.phase))
        mode, h = self._health(st, t)
        hb, hc, hi = (
            (h if mode == m else 0.0) for m in ("bearing_wear", "cooling_fault", "imbalance")
        )
        st.temp += (temperature_target(k, load, hc, hb) - st.temp) * 0.2
        vib_factor = vibration_factor(hb, hi)
        rpm = k.rpm * (0.98 + 0.04 * load)
        if mode == "imbalance":
            rpm += k.rpm * 0.08 * h * math.sin(2 * math.pi * t / IMBALANCE_PERIOD_S)
        return {
            "temperature": round(st.temp + rng.gauss(0, 0.4), 2),
            "vibration": round(max(0.0, k.vibration * vib_factor * rng.gauss(1, 0.05)), 3),
            "rpm": round(rpm + rng.gauss(0, k.rpm * 0.003), 1),
        }

    def _health(self, st: _State, t: float) -> tuple[str | None, float]:
        if st.fault is None or t < st.fault[1]:
            return None, 0.0
        mode, onset, failure = st.fault
        return mode, min(1.0, (t - onset) / (failure - onset))

    def _advance_faults(self, st: _State, t: float) -> None:
        if st.fault is None and t >= st.next_onset_sim and t >= st.down_until_sim:
            onset = max(st.next_onset_sim, st.down_until_sim)
            mode = (
                FAULT_MODES[len(self.episodes) % len(FAULT_MODES)]
                if not self.episodes
                else st.rng.choice(FAULT_MODES)
            )
            failure = onset + st.rng.uniform(*self.fault_hours) * _HOUR
            st.fault = (mode, onset, failure)
            repaired = failure + self.repair_h * _HOUR
            self.episodes.append(
                FaultEpisode(
                    st.machine.name,
                    mode,
                    self.wall_time(onset),
                    self.wall_time(failure),
                    self.wall_time(repaired),
                )
            )
        if st.fault is not None and t >= st.fault[2]:
            st.down_until_sim = st.fault[2] + self.repair_h * _HOUR
            st.next_onset_sim = st.down_until_sim + st.rng.expovariate(1 / (self.mtbf_h * _HOUR))
            st.fault = None
            st.temp = st.kind.temp
