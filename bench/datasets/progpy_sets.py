"""Run-to-failure data sets made with NASA's progpy physics models (``pip install -e .[datasets]``).

    python -m bench.datasets.progpy_sets pump --out /tmp/ext/pump [--units 20] [--seed 7]
    python -m bench.datasets.progpy_sets valve --out /tmp/ext/valve [--step-s 60]
    python -m bench.datasets.progpy_sets battery --out /tmp/ext/battery
    python -m bench.datasets.progpy_sets pump --out /tmp/ext/pump_trunc --truncate

Files, in the long format of docs/ml.md: ``readings.csv`` (unit, type, time, sensors...; ISO-8601
UTC on a regular step, from the unit's install, healthy, to its last step before failure) and
``failures.csv`` (unit, failure: when the unit first met a failure condition, rounded up to the
second; no ``repaired``: every unit runs once). ``--truncate`` cuts each unit's readings at a
random 25-95 % of its life, as the public RUL benchmarks do, writes the true remaining hours at
the last reading to ``test_rul.csv`` (unit, rul_h) and leaves failures.csv with its header only.

pump: ``CentrifugalPumpWithWear`` (Daigle & Goebel 2013). An induction motor turns the
impeller; its area wears with the flow (dA/dt = -wA Q^2), thrust- and radial-bearing friction
grows with speed (dr/dt = w r omega^2), friction heats the bearings and they heat the oil.
Failure: the first of progpy's thresholds: ImpellerWearFailure (A <= 9.5),
Thrust/RadialBearingOverheat (370 K) or PumpOilOverheat (350 K). Sensors, progpy's outputs
plus Gaussian noise (sigma): w rotor speed rad/s (0.5), Qout discharge flow m^3/s (5e-4), Tt,
Tr, To thrust-bearing, radial-bearing and oil temperature K (0.3). Each unit draws its supply
voltage (a V/f drive, wsync = 0.8 V) with a daily demand swing of up to 4 %, and its ambient
temperature (10-30 C, +-5 K a day) by its own wall clock; it starts cold at ambient. Suction
and discharge pressure are common to all units: progpy's leak term breaks when they are
per-unit arrays. Integrated with progpy's next_state at dt = 1 s (the motor's speed loop goes
unstable in explicit Euler above about 1.6 s), all units as one vector, thresholds checked
every step.

valve: ``PneumaticValveWithWear`` (Daigle & Goebel 2011), a gas-actuated valve on a process
line (pL - pR = 0.5-1.5 bar), commanded open (bottom port pressurised) and closed (top port)
on a per-unit schedule of 45-180 min each way. The leaks at the bottom and top ports grow with
time (wb, wt), the internal leak (wi) and friction (wr) with piston travel, and the spring
weakens with travel (wk). Failure: the first of progpy's thresholds (Bottom, Top or Internal
Leak, Spring Failure, Friction Failure) or a stroke that does not reach its end switch within
the controller's 10 s ("Failed to open" / "Failed to close"). The second is needed: a growing
bottom leak starves the opening force long before Aeb reaches progpy's AbMax, and a valve
that cannot open has failed. Sensors (sigma): Q valve flow m^3/s (0.005), pB, pT chamber
pressures MPa (0.005), x piston position m (1e-4), iB, iT end switches 0/1 (exact), and two
values a valve controller logs from those switches, open_s and close_s: how long the last
stroke took from the command to the switch, s (0.02; from an install stroke test on). A stroke
needs a 10 ms step and lasts seconds; between strokes the piston rests at a wall. So strokes
are integrated with next_state at dt = 0.01 s (the chambers settle at 0.05 s once the piston
has arrived), the leak growth between strokes in closed form (dAeb/dt = wb is constant, so
this is exact) with the chambers re-settled every 20 min. Friction wear is drawn small: the
strokes slow, but rMax (strokes of many minutes) is out of reach.

battery: ``BatteryElectroChemEODEOL`` (Daigle & Kulkarni 2013, 2016), a fleet of 18650-type
Li-ion cells (2.1 Ah rated) in repeated duty cycles, each phase a battery management system's
(BMS) decision: discharge at the cell's load (its mean 1-3 A, each 5 min drawn anew at 0.6-1.4
times it) until progpy's end-of-discharge voltage (EOD, v < VEOD = 3.0 V), rest 10-40 min,
charge at a constant 1-2 A to 4.2 V, hold 4.2 V (the charger's voltage loop, a 1 A/V integral
controller) until the current tapers below C/20 (0.1 A), rest 10-40 min, discharge again.
progpy's electrochemistry is symmetric in the current's sign, so charging is a negative current
through the same equations (no reset of the charge state); wear grows with |current|, so
charging wears the cell as discharging does. Wear, progpy's own: the mobile charge qMobile
falls by wq per A s of throughput (capacity fade) and the internal resistance Ro grows by wr
(power fade; the diffusion constant's wd stays progpy's, negligible). Each cell draws -wq
log-uniformly (10^-2.3 to 10^-1.5 C per A s, around progpy's default 10^-2) and wr as a
log-uniform 10^-4.8 to 10^-4.2 ohm per coulomb of capacity lost, so Ro has grown 1.3-2.2
times by the end of life (fade and resistance grow together, as both come from the same
ageing). Temperature: progpy's lumped thermal model relaxes towards each cell's ambient
(15-30 C, +-3 K a day), heated by its overpotentials. Failure: progpy's InsufficientCapacity
(qMobile below qMaxThreshold, 70 % of new; met wherever in the cycle the throughput takes it
there) or a discharge from full that the BMS cuts at EOD before it has delivered half the
rated capacity ("InsufficientDischarge": at high resistance a load peak pulls the voltage
under VEOD early; without it an old cell cycles ever shorter). Sensors (sigma): v terminal
voltage V (0.005), i current A over the last 5 s, + discharging, - charging (0.01), t cell
temperature C (0.2), and what a BMS logs per cycle: discharge_ah, the charge the last complete
discharge delivered, coulomb-counted, Ah (0.005; the datasheet's 2.1 Ah until the first
discharge ends). Integrated with progpy's next_state at dt = 5 s, all cells as one vector: the
fastest state (Vo, time constant 6.1 s) is stable without oscillation in explicit Euler below
6 s, and EOD times at 5 s are within 3 s of those at 1 s (1-4 A, full discharges of
27-120 min). Not real ageing: a cell dies in 4-40 cycles (real ones last hundreds), nothing
ages at rest (no calendar ageing, no self-discharge), and wear does not depend on
temperature; progpy's charging behaviour is its discharge equations run backwards, not fitted
to charge data.

Lives: each unit draws its wear rates log-uniformly (``--wear-scale`` multiplies them); lives
run from about half a day to four or five days, median about 1.5-2.5 days (battery, 40 cells,
seed 7: 13-131 h, median 52 h, 6 of them InsufficientDischarge). Installs spread over 30 days
from 2024-01-01 UTC. Output is deterministic for a seed. Unit ids are text (p01, ...) for the
pump, integers for the valve and text (cell-001, ...) for the battery.

Licence: progpy is NASA Open Source Agreement 1.3 software; we only run it, and the data it
generates is ours to use. Nothing generated is committed: this code makes it.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from progpy.models import (
    BatteryElectroChemEODEOL,
    CentrifugalPumpWithWear,
    PneumaticValveWithWear,
)
from tqdm import tqdm

__all__ = [
    "SETS",
    "DataSet",
    "Run",
    "SetSpec",
    "cli",
    "generate",
    "generator",
    "main",
    "write",
]

EPOCH = pd.Timestamp("2024-01-01T00:00:00Z")
DAY_S = 86_400.0
INSTALL_SPREAD_S = 30 * DAY_S
HORIZON_S = 20 * DAY_S  # a unit alive past this means the wear ranges are wrong
KEEP = (0.25, 0.95)  # --truncate keeps this share of each life

PUMP_SENSORS = ("w", "Qout", "Tt", "Tr", "To")
PUMP_NOISE = np.array([0.5, 5e-4, 0.3, 0.3, 0.3])
PUMP_WEAR = {"wA": (-3.4, -2.3), "wRadial": (-11.2, -10.2), "wThrust": (-11.2, -10.2)}  # log10
PUMP_PRESSURES = {"psuc": 239_179.0, "pdisch": 928_654.0}  # Pa, progpy's example operating point
PUMP_DT = 1.0

VALVE_SENSORS = ("Q", "pB", "pT", "x", "iB", "iT", "open_s", "close_s")
VALVE_NOISE = np.array([0.005, 0.005, 0.005, 1e-4, 0.0, 0.0, 0.02, 0.02])
VALVE_WEAR = {
    "wb": (-11.5, -10.5),
    "wt": (-10.7, -9.9),
    "wi": (-9.9, -9.0),
    "wk": (-1.1, -0.25),
    "wr": (-1.0, 0.0),
}
VALVE_DT = 0.01  # the piston's stroke needs it (at 0.02 s it chatters and never arrives)
SETTLE_DT = 0.05  # the chambers alone, piston at a wall, are stable at this step
FINE_TAIL_S = 0.1
STROKE_MIN_S = 3.0  # a stroke's transient runs at least this long: the chambers settle
STROKE_TIMEOUT_S = 10.0  # the controller's limit: no end switch by then is a failed stroke
RESETTLE_EVERY_S = 1200.0
RESETTLE_S = 0.35

CELL_SENSORS = ("v", "i", "t", "discharge_ah")
CELL_NOISE = np.array([0.005, 0.01, 0.2, 0.005])
CELL_WEAR = (-2.3, -1.5)  # log10 of -wq: capacity (qMobile, C) lost per A s of throughput
CELL_RO_PER_Q = (-4.8, -4.2)  # log10 of wr / -wq: ohms of Ro gained per C of capacity lost
CELL_WEAK = 0.5  # a discharge from full ending below this share of rated capacity: failed
CELL_DT = 5.0  # explicit Euler; the fastest state (Vo, 6.1 s) would oscillate above ~6 s
LOAD_HOLD_S = 300.0  # the load current changes every 5 min
V_CHARGED = 4.2  # the charger's constant-voltage level
CV_END_A = 0.1  # the charger stops when its current tapers below C/20
CV_GAIN = 1.0  # A per V per integration step: the charger's voltage loop
DISCHARGE, REST_EMPTY, CHARGE_CC, CHARGE_CV, REST_FULL = range(5)


@dataclass(frozen=True, slots=True)
class Run:
    """One unit's life: readings from install (rows x sensors) and the seconds to failure."""

    unit: str | int
    install_s: float  # after EPOCH, on the step grid
    life_s: float
    mode: str  # the event that ended it
    values: np.ndarray


@dataclass(frozen=True, slots=True)
class DataSet:
    readings: pd.DataFrame
    failures: pd.DataFrame
    test_rul: pd.DataFrame | None
    lives: pd.DataFrame  # unit, life_h, mode: for the summary, not written


def _model(cls: type) -> Any:
    """A progpy model without its own noise (ours is seeded); its wear-rate warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cls(process_noise=0, measurement_noise=0)


def _installs(rng: np.random.Generator, units: int, step_s: float) -> np.ndarray:
    return np.floor(rng.uniform(0, INSTALL_SPREAD_S, units) / step_s) * step_s


def _log_uniform(rng: np.random.Generator, span: tuple[float, float], size: int) -> np.ndarray:
    return 10 ** rng.uniform(*span, size)


def _events_met(model: Any, x: Any) -> np.ndarray | None:
    """Per unit, the first of the model's events whose threshold is met ('' if none), or None."""
    met = model.threshold_met(x)
    flags = np.array([np.ravel(met[event]) for event in model.events])
    if not flags.any():  # the common case, kept cheap: it runs every integration step
        return None
    first = np.asarray(model.events, dtype=object)[flags.argmax(axis=0)]
    return np.where(flags.any(axis=0), first, "")


def _first_rows(life_s: float, step_s: float) -> int:
    """How many grid times k * step_s lie strictly before the failure."""
    return math.ceil(life_s / step_s)


def _fleet_runs(
    prefix: str,
    digits: int,
    install_s: np.ndarray,
    outcome: tuple[np.ndarray, np.ndarray, np.ndarray],
    step_s: float,
) -> list[Run]:
    """A fleet simulated as one vector (readings steps x units x sensors, lives, modes) cut
    into runs, each ending at its unit's last reading before failure; ids prefix + number."""
    values, life, mode = outcome
    width = max(digits, len(str(len(life))))
    return [
        Run(
            unit=f"{prefix}{j + 1:0{width}d}",
            install_s=float(install_s[j]),
            life_s=float(life[j]),
            mode=str(mode[j]),
            values=values[: _first_rows(life[j], step_s), j],
        )
        for j in range(len(life))
    ]


# --- pump -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PumpFleet:
    wear: dict[str, np.ndarray]
    volts: np.ndarray
    swing: np.ndarray  # relative daily voltage swing
    ambient: np.ndarray  # K, daily mean
    install_s: np.ndarray


def draw_pump_fleet(
    *, rng: np.random.Generator, units: int, step_s: float, wear_scale: float
) -> PumpFleet:
    """Each unit's wear rates, operating point and install time."""
    wear = {k: wear_scale * _log_uniform(rng, span, units) for k, span in PUMP_WEAR.items()}
    return PumpFleet(
        wear=wear,
        volts=rng.uniform(450.0, 490.0, units),
        swing=rng.uniform(0.0, 0.04, units),
        ambient=rng.uniform(283.0, 303.0, units),
        install_s=_installs(rng, units, step_s),
    )


def _daily(install_s: np.ndarray, t: float, peak_h: float) -> np.ndarray:
    """A daily wave per unit, 1 at peak_h UTC on the unit's wall clock."""
    hours = (install_s + t) % DAY_S / 3600.0
    return np.cos(2 * np.pi * (hours - peak_h) / 24.0)


def _pump_inputs(fleet: PumpFleet, t: float) -> dict[str, Any]:
    volts = fleet.volts * (1 + fleet.swing * _daily(fleet.install_s, t, 14.0))
    ambient = fleet.ambient + 5.0 * _daily(fleet.install_s, t, 15.0)
    return {"Tamb": ambient, "V": volts, "wsync": 0.8 * volts, **PUMP_PRESSURES}


def _pump_start(model: Any, fleet: PumpFleet) -> Any:
    """progpy's healthy initial state for every unit, at its own ambient temperature."""
    x0 = model.initialize(_pump_inputs(fleet, 0.0))
    start = {k: np.full(len(fleet.volts), float(np.ravel(x0[k])[0])) for k in model.states}
    start |= {k: fleet.ambient.copy() for k in ("Tt", "Tr", "To")} | fleet.wear
    return model.StateContainer(start)


def _outputs(model: Any, x: Any, names: Sequence[str]) -> np.ndarray:
    z = model.output(x)
    return np.stack([np.ravel(z[k]).astype(float) for k in names], axis=-1)


Fate = tuple[np.ndarray, np.ndarray]  # per unit: life (s, NaN while alive), failure mode


def _pump_block(model: Any, x: Any, u: dict[str, Any], *, t: float, step_s: float, fate: Fate):
    """One reading step (inputs held) in steps of dt; a failed unit's wear stops, so its state
    stays finite while the others run on."""
    life, mode = fate
    for i in range(round(step_s / PUMP_DT)):
        # state limits (progpy's simulate applies them every step) are checked once a reading:
        # none is reached before a failure threshold, and apply_limits would warn if one were
        x = model.next_state(x, u, PUMP_DT)
        events = _events_met(model, x)
        hit = np.zeros_like(life, dtype=bool) if events is None else (events != "") & np.isnan(life)
        if hit.any():
            life[hit], mode[hit] = t + (i + 1) * PUMP_DT, events[hit]
            for key in PUMP_WEAR:
                x[key] = np.where(np.isnan(life), x[key], 0.0)
    return model.apply_limits(x)


def simulate_pump(
    fleet: PumpFleet, *, rng: np.random.Generator, step_s: float, progress: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy outputs (steps x units x sensors), lives (s) and failure modes, all units at once."""
    model = _model(CentrifugalPumpWithWear)
    x, rows = _pump_start(model, fleet), []
    life, mode = np.full(len(fleet.volts), np.nan), np.full(len(fleet.volts), "", dtype=object)
    with tqdm(total=len(life), desc="pump", unit="unit", disable=not progress) as bar:
        while np.isnan(life).any():
            t = len(rows) * step_s
            if t > HORIZON_S:
                raise RuntimeError(f"pump units alive after {HORIZON_S / DAY_S:.0f} days")
            rows.append(_outputs(model, x, PUMP_SENSORS))
            x = _pump_block(model, x, _pump_inputs(fleet, t), t=t, step_s=step_s, fate=(life, mode))
            bar.update(int((~np.isnan(life)).sum()) - bar.n)
    clean = np.stack(rows)
    return clean + rng.normal(size=clean.shape) * PUMP_NOISE, life, mode


def pump_runs(
    *, seed: np.random.SeedSequence, units: int, step_s: float, wear_scale: float, progress: bool
) -> list[Run]:
    rng = np.random.default_rng(seed)
    fleet = draw_pump_fleet(rng=rng, units=units, step_s=step_s, wear_scale=wear_scale)
    values, life, mode = simulate_pump(fleet, rng=rng, step_s=step_s, progress=progress)
    return _fleet_runs("p", 2, fleet.install_s, (values, life, mode), step_s)


# --- valve ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValveDraw:
    wear: dict[str, float]
    pressures: dict[str, float]  # pL, pR: the process line either side of the plug, Pa
    open_for_s: float
    closed_for_s: float
    install_s: float


def draw_valve(*, rng: np.random.Generator, step_s: float, wear_scale: float) -> ValveDraw:
    """One unit's wear rates, line pressures, command schedule and install time."""
    hold = [step_s * max(1, round(rng.uniform(45, 180) * 60 / step_s)) for _ in range(2)]
    return ValveDraw(
        wear={
            k: wear_scale * float(_log_uniform(rng, span, 1)[0]) for k, span in VALVE_WEAR.items()
        },
        pressures={
            "pL": (p_left := rng.uniform(2.5e5, 3.5e5)),
            "pR": p_left - rng.uniform(0.5e5, 1.5e5),
        },
        open_for_s=hold[0],
        closed_for_s=hold[1],
        install_s=float(_installs(rng, 1, step_s)[0]),
    )


class _Valve:
    """One valve between readings: progpy's state, the command, the last stroke times."""

    def __init__(self, draw: ValveDraw) -> None:
        self.model = _model(PneumaticValveWithWear)
        self.u: dict[str, Any] = {**draw.pressures, "uTop": True, "uBot": False}
        self.x = self.model.initialize(self.model.InputContainer(self.u))
        for key, rate in draw.wear.items():
            self.x[key] = rate
        self.t = self.settled_at = 0.0
        self.failed_at: float | None = None
        self.mode = ""
        self.stroke_s = {"open_s": math.nan, "close_s": math.nan}

    def reading(self) -> list[float]:
        z = self.model.output(self.x)
        outputs = [float(np.ravel(z[k])[0]) for k in VALVE_SENSORS[:6]]
        return outputs + [self.stroke_s["open_s"], self.stroke_s["close_s"]]

    def _fail(self, mode: str) -> None:
        self.failed_at, self.mode = self.t, mode

    def _check(self) -> None:
        events = _events_met(self.model, self.x)
        if events is not None and self.failed_at is None:
            self._fail(str(events[0]))

    def _step(self, dt: float) -> None:
        # state limits checked once per stroke or rest, as for the pump
        self.x = self.model.next_state(self.x, self.u, dt)
        self.t += dt
        self._check()

    def _settle(self, seconds: float) -> None:
        """The chambers towards equilibrium, the piston at a wall: coarse steps, then fine ones
        (at coarse steps the vented chamber chatters by a few kPa)."""
        for _ in range(max(0, round((seconds - FINE_TAIL_S) / SETTLE_DT))):
            self._step(SETTLE_DT)
        for _ in range(round(FINE_TAIL_S / VALVE_DT)):
            self._step(VALVE_DT)

    def command(self, *, opening: bool) -> None:
        """Switch the ports, integrate the stroke; no end switch within the timeout fails it."""
        self.u = {**self.u, "uBot": opening, "uTop": not opening}
        switch, start = ("iT" if opening else "iB"), self.t
        while self.failed_at is None and self.t - start < STROKE_TIMEOUT_S:
            self._step(VALVE_DT)
            if np.any(self.model.output(self.x)[switch]):
                self.stroke_s["open_s" if opening else "close_s"] = self.t - start
                self._settle(STROKE_MIN_S - (self.t - start))
                break
        else:
            if self.failed_at is None:
                self._fail("Failed to open" if opening else "Failed to close")
        self.x = self.model.apply_limits(self.x)

    def hold_until(self, end: float) -> None:
        """Rest at the wall: leak growth in closed form, chambers re-settled now and then."""
        settle = RESETTLE_S if end - self.settled_at >= RESETTLE_EVERY_S else 0.0
        for area, rate in (("Aeb", "wb"), ("Aet", "wt")):
            self.x[area] = self.x[area] + self.x[rate] * (end - settle - self.t)
        self.t = end - settle
        self._check()
        if settle:
            self._settle(settle)
            self.settled_at = end
        self.t = end
        self.x = self.model.apply_limits(self.x)


def simulate_valve(
    draw: ValveDraw, *, rng: np.random.Generator, step_s: float
) -> tuple[np.ndarray, float, str]:
    """Noisy readings (steps x sensors), life (s) and failure mode of one valve."""
    valve = _Valve(draw)
    for opening in (True, False):  # the stroke test at install: stroke times known from row 1
        valve.command(opening=opening)
    if valve.failed_at is not None:
        raise ValueError(f"a valve failed its install stroke test ({valve.mode}): wear too fast")
    valve.t = valve.settled_at = 0.0
    rows, next_switch, opening = [], 0.0, True
    while valve.failed_at is None:  # readings strictly before the failure
        t = len(rows) * step_s
        if t > HORIZON_S:
            raise RuntimeError(f"a valve is alive after {HORIZON_S / DAY_S:.0f} days")
        rows.append(valve.reading())
        if t >= next_switch:
            valve.command(opening=opening)
            next_switch = t + (draw.open_for_s if opening else draw.closed_for_s)
            opening = not opening
        if valve.failed_at is None:
            valve.hold_until(t + step_s)
    clean = np.array(rows)
    return clean + rng.normal(size=clean.shape) * VALVE_NOISE, valve.failed_at, valve.mode


def valve_runs(
    *, seed: np.random.SeedSequence, units: int, step_s: float, wear_scale: float, progress: bool
) -> list[Run]:
    """Unit by unit (progpy's valve is not vectorised), each from its own seed."""
    runs = []
    for unit, child in enumerate(tqdm(seed.spawn(units), desc="valve", disable=not progress)):
        rng = np.random.default_rng(child)
        draw = draw_valve(rng=rng, step_s=step_s, wear_scale=wear_scale)
        values, life, mode = simulate_valve(draw, rng=rng, step_s=step_s)
        runs.append(Run(unit + 1, draw.install_s, life, mode, values))
    return runs


# --- battery ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellFleet:
    wear: dict[str, np.ndarray]  # progpy's wq (qMobile, < 0) and wr (Ro) wear rates
    load_a: np.ndarray  # mean discharge current, A
    charge_a: np.ndarray  # constant-current charge, A
    rest_s: np.ndarray  # (units, 2): rest after the discharge, after the charge
    ambient: np.ndarray  # K, daily mean
    install_s: np.ndarray


def draw_cell_fleet(
    *, rng: np.random.Generator, units: int, step_s: float, wear_scale: float
) -> CellFleet:
    """Each cell's wear rates, duty (load, charge current, rests), ambient and install time."""
    fade = wear_scale * _log_uniform(rng, CELL_WEAR, units)
    wear = {"wq": -fade, "wr": fade * _log_uniform(rng, CELL_RO_PER_Q, units)}
    rest = rng.uniform(10, 40, (units, 2)) * 60
    return CellFleet(
        wear=wear,
        load_a=rng.uniform(1.0, 3.0, units),
        charge_a=rng.uniform(1.0, 2.0, units),
        rest_s=np.round(rest / CELL_DT) * CELL_DT,
        ambient=rng.uniform(288.0, 303.0, units),
        install_s=_installs(rng, units, step_s),
    )


class _Cells:
    """The fleet of cells between readings: progpy's state, each cell's phase of its duty
    cycle, the current it carries and what the battery management system counts."""

    def __init__(self, fleet: CellFleet) -> None:
        self.fleet, n = fleet, len(fleet.load_a)
        self.model = _model(BatteryElectroChemEODEOL)
        self.model.parameters["wq"] = fleet.wear["wq"]
        self.model.parameters["wr"] = fleet.wear["wr"]
        x0 = self.model.initialize()
        start = {k: np.full(n, float(np.ravel(x0[k])[0])) for k in self.model.states}
        self.x = self.model.StateContainer(start | {"tb": fleet.ambient.copy()})
        self.phase = np.full(n, DISCHARGE)
        self.i = np.zeros(n)  # the current of the last step, A (+ discharge, - charge)
        self.load = np.zeros(n)
        self.cv_a = np.zeros(n)
        self.rest_until = np.zeros(n)
        self.counted_ah = np.zeros(n)
        self.rated_ah = float(np.ravel(x0["qMobile"])[0]) / 3600.0
        self.discharge_ah = np.full(n, self.rated_ah)  # the datasheet's until the first discharge
        self.life, self.mode = np.full(n, np.nan), np.full(n, "", dtype=object)

    def reading(self) -> np.ndarray:
        t = np.ravel(self.model.output(self.x)["t"]).astype(float)
        return np.stack([self.volts(), self.i, t, self.discharge_ah], axis=-1)

    def volts(self) -> np.ndarray:
        return np.ravel(self.model.output(self.x)["v"]).astype(float)

    def _current(self) -> np.ndarray:
        phase = self.phase
        i = np.select(
            [phase == DISCHARGE, phase == CHARGE_CC, phase == CHARGE_CV],
            [self.load, -self.fleet.charge_a, self.cv_a],
            0.0,
        )
        return np.where(np.isnan(self.life), i, 0.0)  # a failed cell rests: its wear stops

    def step(self, t: float, rng: np.random.Generator) -> None:
        """One integration step from t: the cells' currents, progpy's physics, the BMS."""
        if t % LOAD_HOLD_S == 0:  # drawn for every cell, whatever it does: same draws per seed
            self.load = self.fleet.load_a * rng.uniform(0.6, 1.4, len(self.load))
            self.model.parameters["x0"]["tb"] = self.fleet.ambient + 3.0 * _daily(
                self.fleet.install_s, t, 15.0
            )
        self.i = self._current()
        self.x = self.model.next_state(self.x, self.model.InputContainer({"i": self.i}), CELL_DT)
        t += CELL_DT
        self.counted_ah += np.where(self.phase == DISCHARGE, self.i, 0.0) * CELL_DT / 3600.0
        # progpy's end of life: qMobile below its qMaxThreshold (InsufficientCapacity)
        worn = self.x["qMobile"] < self.model.parameters["qMaxThreshold"]
        hit = np.ravel(worn) & np.isnan(self.life)
        self.life[hit], self.mode[hit] = t, "InsufficientCapacity"
        self._duty(t, self.volts())

    def _duty(self, t: float, v: np.ndarray) -> None:
        """The phase changes: the BMS cuts the load at progpy's EOD voltage, the charger runs
        constant current to V_CHARGED, then holds it until the current tapers below CV_END_A."""
        phase, veod = self.phase, self.model.parameters["VEOD"]
        empty = (phase == DISCHARGE) & (v < veod)
        self.discharge_ah[empty] = self.counted_ah[empty]
        self.counted_ah[empty] = 0.0
        weak = empty & (self.discharge_ah < CELL_WEAK * self.rated_ah) & np.isnan(self.life)
        self.life[weak], self.mode[weak] = t, "InsufficientDischarge"
        self.rest_until[empty] = t + self.fleet.rest_s[empty, 0]
        cc = (phase == REST_EMPTY) & (t >= self.rest_until)
        cv = (phase == CHARGE_CC) & (v >= V_CHARGED)
        loop = self.cv_a + CV_GAIN * (v - V_CHARGED)  # never above the constant current
        self.cv_a = np.where(cv, -self.fleet.charge_a, np.clip(loop, -self.fleet.charge_a, 0.0))
        full = (phase == CHARGE_CV) & (self.cv_a > -CV_END_A)
        self.rest_until[full] = t + self.fleet.rest_s[full, 1]
        again = (phase == REST_FULL) & (t >= self.rest_until)
        phase[empty], phase[cc], phase[cv] = REST_EMPTY, CHARGE_CC, CHARGE_CV
        phase[full], phase[again] = REST_FULL, DISCHARGE


def simulate_cells(
    fleet: CellFleet, *, rng: np.random.Generator, step_s: float, progress: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy readings (steps x units x sensors), lives (s) and failure modes, all at once."""
    cells, rows = _Cells(fleet), list[np.ndarray]()
    with tqdm(total=len(cells.life), desc="battery", unit="unit", disable=not progress) as bar:
        while np.isnan(cells.life).any():
            t = len(rows) * step_s
            if t > HORIZON_S:
                raise RuntimeError(f"cells alive after {HORIZON_S / DAY_S:.0f} days")
            rows.append(cells.reading())
            for k in range(round(step_s / CELL_DT)):
                cells.step(t + k * CELL_DT, rng)
            bar.update(int((~np.isnan(cells.life)).sum()) - bar.n)
    clean = np.stack(rows)
    return clean + rng.normal(size=clean.shape) * CELL_NOISE, cells.life, cells.mode


def battery_runs(
    *, seed: np.random.SeedSequence, units: int, step_s: float, wear_scale: float, progress: bool
) -> list[Run]:
    rng = np.random.default_rng(seed)
    fleet = draw_cell_fleet(rng=rng, units=units, step_s=step_s, wear_scale=wear_scale)
    outcome = simulate_cells(fleet, rng=rng, step_s=step_s, progress=progress)
    return _fleet_runs("cell-", 3, fleet.install_s, outcome, step_s)


# --- sets, frames, files ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetSpec:
    kind: str
    sensors: tuple[str, ...]
    runs: Callable[..., list[Run]]
    min_step_s: float
    grid_s: float = PUMP_DT  # the step is a whole multiple of this


SETS = {
    "pump": SetSpec("centrifugal-pump", PUMP_SENSORS, pump_runs, PUMP_DT),
    "valve": SetSpec("pneumatic-valve", VALVE_SENSORS, valve_runs, STROKE_TIMEOUT_S + 1),
    "battery": SetSpec("li-ion-cell", CELL_SENSORS, battery_runs, CELL_DT, CELL_DT),
}


def _failure_time(run: Run) -> pd.Timestamp:
    """Whole seconds, rounded up: still after the last reading."""
    return EPOCH + pd.Timedelta(seconds=run.install_s + math.ceil(run.life_s))


def _readings(runs: Sequence[Run], spec: SetSpec, step_s: float) -> pd.DataFrame:
    parts = []
    for run in runs:
        offsets = run.install_s + step_s * np.arange(len(run.values))
        part = pd.DataFrame(run.values, columns=list(spec.sensors))
        part.insert(0, "time", EPOCH + pd.to_timedelta(offsets, unit="s"))
        part.insert(0, "type", spec.kind)
        part.insert(0, "unit", run.unit)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _truncated(
    runs: Sequence[Run], rng: np.random.Generator, step_s: float
) -> tuple[list[Run], pd.DataFrame]:
    """Each run cut at a random share of its readings, and the true hours left at the cut."""
    cut, rul = [], []
    for run in runs:
        keep = max(1, int(rng.uniform(*KEEP) * len(run.values)))
        cut.append(replace(run, values=run.values[:keep]))
        rul.append((math.ceil(run.life_s) - (keep - 1) * step_s) / 3600.0)
    return cut, pd.DataFrame({"unit": [r.unit for r in runs], "rul_h": rul})


def generator(sets: dict[str, SetSpec], tag: int) -> Callable[..., DataSet]:
    """A module's ``generate`` for its ``sets``; ``tag`` keeps its seeds apart from another
    module's (the set's position in ``sets`` is added to it)."""

    def generate(
        name: str,
        *,
        units: int,
        seed: int,
        step_s: float = 60.0,
        truncate: bool = False,
        wear_scale: float = 1.0,
        progress: bool = False,
    ) -> DataSet:
        """A data set from scratch: draws, physics to failure, noise, optionally truncated."""
        spec = sets[name]
        if step_s < spec.min_step_s or step_s % spec.grid_s:
            raise ValueError(
                f"{name} needs a step of at least {spec.min_step_s} s, "
                f"a multiple of {spec.grid_s} s"
            )
        physics, cuts = np.random.SeedSequence([seed, tag + list(sets).index(name)]).spawn(2)
        runs = spec.runs(
            seed=physics, units=units, step_s=step_s, wear_scale=wear_scale, progress=progress
        )
        return _assemble(runs, spec, step_s=step_s, truncate=truncate, cuts=cuts)

    return generate


def _assemble(
    runs: Sequence[Run],
    spec: SetSpec,
    *,
    step_s: float,
    truncate: bool,
    cuts: np.random.SeedSequence,
) -> DataSet:
    """The long-format frames of simulated runs, optionally truncated (cuts seeds where)."""
    failures = pd.DataFrame(
        {
            "unit": [r.unit for r in runs],
            "failure": [_failure_time(r) for r in runs],
            "mode": [r.mode for r in runs],  # what broke: evaluate reports recall per mode
        }
    )
    lives = pd.DataFrame(
        {
            "unit": [r.unit for r in runs],
            "life_h": [r.life_s / 3600 for r in runs],
            "mode": [r.mode for r in runs],
        }
    )
    rul = None
    if truncate:
        runs, rul = _truncated(runs, np.random.default_rng(cuts), step_s)
        failures = failures.iloc[:0]
    return DataSet(_readings(runs, spec, step_s), failures, rul, lives)


def write(data: DataSet, out: Path) -> None:
    """readings.csv, failures.csv and (when truncated) test_rul.csv into out."""
    out.mkdir(parents=True, exist_ok=True)
    iso = {"index": False, "date_format": "%Y-%m-%dT%H:%M:%SZ"}
    data.readings.to_csv(out / "readings.csv", float_format="%.5g", **iso)
    data.failures.to_csv(out / "failures.csv", **iso)
    if data.test_rul is None:
        (out / "test_rul.csv").unlink(missing_ok=True)  # not a stale answer key from an earlier run
    else:
        data.test_rul.to_csv(out / "test_rul.csv", index=False, float_format="%.4f")


def _parser(prog: str, names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("name", choices=sorted(names))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--step-s", type=float, default=60.0, help="reading step, s of physics")
    parser.add_argument("--truncate", action="store_true", help="cut lives; write test_rul.csv")
    parser.add_argument("--wear-scale", type=float, default=1.0, help="multiplies wear rates")
    return parser


generate = generator(SETS, 0)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(argv, prog="python -m bench.datasets.progpy_sets", names=list(SETS), make=generate)


def cli(
    argv: Sequence[str] | None,
    *,
    prog: str,
    names: Sequence[str],
    make: Callable[..., DataSet],
) -> int:
    """Parse, make the set with make (a generate), write it, print a summary of its lives."""
    args = _parser(prog, names).parse_args(argv)
    started = time.perf_counter()
    data = make(
        args.name,
        units=args.units,
        seed=args.seed,
        step_s=args.step_s,
        truncate=args.truncate,
        wear_scale=args.wear_scale,
        progress=True,
    )
    write(data, args.out)
    lives = data.lives["life_h"]
    print(
        f"{args.name}: {len(lives)} units, {len(data.readings)} readings in {args.out}; "
        f"lives h min {lives.min():.1f} median {lives.median():.1f} max {lives.max():.1f}; "
        f"modes {data.lives['mode'].value_counts().to_dict()}; "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
