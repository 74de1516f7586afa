"""Run-to-failure Li-ion cells aged with PyBaMM's own degradation models (``pip install -e
.[datasets]``): the source no model choice was ever tuned on.

    python -m bench.datasets.pybamm_sets cell --out /tmp/ext/cell [--units 40] [--seed 7]
    python -m bench.datasets.pybamm_sets cell --out /tmp/ext/cell_trunc --truncate

Files, the same as bench/datasets/progpy_sets.py's (its docstring): readings.csv, failures.csv
and, with ``--truncate``, test_rul.csv, in the long format of docs/ml.md.

cell: a fleet of LG M50 21700 cells (NMC811 / graphite-SiOx, 5 Ah), PyBaMM's single particle
model with electrolyte (SPMe) and its ``OKane2022`` parameter set: the set fitted to this cell's
ageing data, with SEI growth limited by solvent diffusion (Arrhenius, 38 kJ/mol: warm cells age
faster), the SEI's porosity change, particle swelling and stress-driven loss of active material
in both electrodes (O'Kane et al. 2022), and a lumped thermal model (heat out through the
can's 53 cm2 at 10 W/m2K to the cell's ambient). Lithium plating is left out: PyBaMM's plating
submodel made a cell 25 times slower to solve (the stiff plating kinetics) and plates next to
nothing at these charge rates and temperatures. Each cycle is a battery management system's
(BMS) decision: discharge at the cell's load (its mean 0.5-1.5 C, each 5 min drawn anew at
0.6-1.4 times it) to the 2.5 V cut-off, rest 10-40 min, charge at a constant 0.3-0.7 C to
4.2 V, hold 4.2 V until the current tapers below C/20 (0.25 A), rest 10-40 min, discharge again.
The cut-offs are solver events, so a phase ends when its condition is met, not at a step. The
ambient is each cell's own (10-35 C, +-3 K a day by its wall clock, updated every 30 min); it
starts at ambient, full (OCV 4.2 V). Wear: each cell multiplies the SEI solvent diffusivity
and the LAM proportional terms by its own log-uniform factors (``--wear-scale`` multiplies
both), so some cells fade by SEI (fast, then slower, resistance grows) and some by LAM (slow,
then a knee). Failure ("CapacityFade"): a discharge from full (every discharge here starts
after a full CC-CV charge) that the BMS cuts at 2.5 V having delivered less than 80 % of what
the cell's first discharge did, the usual end of life; failure time is the end of that
discharge, at the solver's event. A load that pulls the voltage under the cut-off at once ends
the discharge with nothing delivered: a failure too. A cell the solver cannot integrate (an
error other than such a cut-off) is no label: it is redrawn from a seed of its own, counted
in a warning. Sensors (sigma): v terminal voltage V (0.005), i current A, + discharging,
- charging (0.02), t cell temperature C (0.2), and what a BMS logs per cycle: discharge_ah,
the charge the last complete discharge delivered, Ah (0.01; the datasheet's 5 Ah until the
first discharge ends). Numerics: a 4-4-4 mesh across, 8 shells in each particle, PyBaMM's
IDAKLU solver (dense Jacobian, rtol 1e-3), stepped segment by segment with the load, the
ambient and the control mode as inputs of one model built once per fleet: about 0.1 s of
CPU per cycle, 2 s a cell on average (40 cells, seed 7: 77 s of CPU).

Not real ageing: both mechanisms are sped up 400-5,000 times so a cell dies in about 4-35 cycles
(real ones last hundreds to thousands); the SEI and stress rates are the paper's fits, only
scaled; no plating, no cracking, no calendar ageing beyond the SEI's own growth at rest; the
cell's electrical and thermal parameters are the same for every cell (only the wear, the duty
and the ambient differ).

Lives: lives run from about 15 h to five days (cell, 40 cells, seed 7: 15-131 h, median 47 h,
all CapacityFade, no redraws). Installs spread over 30 days from 2024-01-01 UTC. Output is
deterministic for a seed. Unit ids are text (cell-01, ...).

Licence: PyBaMM is BSD-3-Clause software; we only run it, and the data it generates is ours to
use. Nothing generated is committed: this code makes it.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.datasets.progpy_sets import (
    DAY_S,
    HORIZON_S,
    Run,
    SetSpec,
    _daily,
    _installs,
    _log_uniform,
    cli,
    generator,
)

# before pybamm's import: it would otherwise ask at the prompt to send usage data
os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
import pybamm  # noqa: E402

__all__ = ["SETS", "generate", "main"]

log = logging.getLogger(__name__)

PARAMETERS = "OKane2022"
OPTIONS = {
    "thermal": "lumped",
    "SEI": "solvent-diffusion limited",
    "SEI porosity change": "true",
    "particle mechanics": "swelling only",
    "loss of active material": "stress-driven",
}
MESH = {"x_n": 4, "x_s": 4, "x_p": 4, "r_n": 8, "r_p": 8}
RTOL = 1e-3
WEAR = {  # parameter -> (its multiplier's input, log10 span of the multiplier)
    "SEI solvent diffusivity [m2.s-1]": ("sei", (2.6, 3.6)),
    "Negative electrode LAM constant proportional term [s-1]": ("lam", (3.1, 3.7)),
    "Positive electrode LAM constant proportional term [s-1]": ("lam", (3.1, 3.7)),
}
CELL_SENSORS = ("v", "i", "t", "discharge_ah")
CELL_NOISE = np.array([0.005, 0.02, 0.2, 0.01])
OUTPUTS = ("Voltage [V]", "Current [A]", "X-averaged cell temperature [K]")
RATED_AH = 5.0
V_CUT, V_FULL, CV_END_A = 2.5, 4.2, 0.25  # the BMS's discharge cut-off, charge voltage, C/20
EOL_SHARE = 0.8  # a discharge from full delivering less than this of the first one: failed
LOAD_HOLD_S = 300.0  # the load changes every 5 min
AMBIENT_HOLD_S = 1800.0  # the ambient input is updated every 30 min
REDRAWS = 5  # solver failures tolerated per cell before giving up
DISCHARGE, REST_EMPTY, CHARGE_CC, CHARGE_CV, REST_FULL = range(5)


@dataclass(frozen=True, slots=True)
class CellDraw:
    wear: dict[str, float]  # the wear multipliers' inputs
    load_a: float  # mean discharge current, A
    charge_a: float  # constant-current charge, A
    rest_s: tuple[float, float]  # after the discharge, after the charge
    ambient: float  # K, daily mean


def draw_cell(*, rng: np.random.Generator, wear_scale: float) -> CellDraw:
    """One cell's wear multipliers, duty (load, charge current, rests) and ambient."""
    spans = {name: span for name, span in WEAR.values()}
    return CellDraw(
        wear={k: wear_scale * float(_log_uniform(rng, s, 1)[0]) for k, s in spans.items()},
        load_a=rng.uniform(0.4, 1.2) * RATED_AH,
        charge_a=rng.uniform(0.3, 0.7) * RATED_AH,
        rest_s=(rng.uniform(600, 2400), rng.uniform(600, 2400)),
        ambient=rng.uniform(283.0, 308.0),
    )


def _control(variables: dict[str, Any]) -> Any:
    """The charger and the load as one algebraic law: hold the current (cv 0) or the voltage
    (cv 1), so one built model serves every phase and a phase change is a change of inputs."""
    cv = pybamm.InputParameter("cv")
    amps = variables["Current [A]"] - pybamm.InputParameter("amps")
    volts = variables["Voltage [V]"] - pybamm.InputParameter("volts")
    return (1 - cv) * amps + cv * volts


class _Rig:
    """PyBaMM's model, parameters and solver, built once: the cells differ only by inputs."""

    def __init__(self) -> None:
        model = pybamm.lithium_ion.SPMe(OPTIONS | {"operating mode": _control})
        v, i = model.variables["Voltage [V]"], model.variables["Current [A]"]
        a, b, c = (pybamm.InputParameter(k) for k in ("ev", "ei", "e0"))
        model.events.append(pybamm.Event("bms", a * v + b * i + c))  # > 0 while the phase runs
        values = pybamm.ParameterValues(PARAMETERS)
        for name, (key, _) in WEAR.items():
            values[name] = values[name] * pybamm.InputParameter(key)
        ambient = pybamm.InputParameter("ambient")
        values.update({"Ambient temperature [K]": ambient, "Initial temperature [K]": ambient})
        # PyBaMM's own voltage guards, outside the BMS's 2.5-4.2 V window
        values.update({"Lower voltage cut-off [V]": 2.3, "Upper voltage cut-off [V]": 4.4})
        solver = pybamm.IDAKLUSolver(
            rtol=RTOL,
            atol=RTOL * 1e-2,
            options={"jacobian": "dense", "linear_solver": "SUNLinSol_Dense"},
        )
        sim = pybamm.Simulation(model, parameter_values=values, var_pts=MESH, solver=solver)
        level = pybamm.logger.level  # the build warns that the cells' inputs are not given yet
        pybamm.logger.setLevel(logging.ERROR)
        try:
            sim.build(initial_soc=1.0)
        finally:
            pybamm.logger.setLevel(level)
        self.model, self.solver = sim.built_model, solver


class _Stop(Exception):
    """The BMS's condition held at the start of a phase: it ends at once."""


class _Cell:
    """One cell through its duty cycles: phase, clock, the BMS's counts and the readings."""

    def __init__(self, rig: _Rig, draw: CellDraw, install_s: float, step_s: float) -> None:
        self.rig, self.draw, self.install_s, self.step_s = rig, draw, install_s, step_s
        self.sol: Any = None
        self.t, self.phase, self.phase_end = 0.0, DISCHARGE, math.inf
        self.discharged_from = 0.0
        self.first_ah: float | None = None
        self.discharge_ah = RATED_AH  # the datasheet's until the first discharge ends
        self.life: float | None = None
        self.rows: list[np.ndarray] = []

    def _inputs(self, amps: float) -> dict[str, float]:
        ambient = self.draw.ambient + 3.0 * float(_daily(np.array(self.install_s), self.t, 15.0))
        cv = self.phase == CHARGE_CV
        event = {  # ev * V + ei * I + e0 > 0 while the phase runs
            DISCHARGE: (1.0, 0.0, -V_CUT),
            CHARGE_CC: (-1.0, 0.0, V_FULL),
            CHARGE_CV: (0.0, -1.0, -CV_END_A),
        }.get(self.phase, (0.0, 0.0, 1.0))
        return self.draw.wear | {
            "cv": float(cv),
            "amps": amps,
            "volts": V_FULL,
            "ambient": ambient,
            **dict(zip(("ev", "ei", "e0"), event, strict=True)),
        }

    def run(self, rng: np.random.Generator) -> None:
        """Phases until the cell fails; rng draws the loads."""
        while self.life is None:
            if self.t > HORIZON_S:
                raise RuntimeError(f"a cell is alive after {HORIZON_S / DAY_S:.0f} days")
            if self.phase == DISCHARGE:
                amps, hold = self.draw.load_a * rng.uniform(0.6, 1.4), LOAD_HOLD_S
            else:
                amps = -self.draw.charge_a if self.phase == CHARGE_CC else 0.0
                hold = AMBIENT_HOLD_S
            until = min((self.t // hold + 1) * hold, self.phase_end)
            try:
                stopped = self._segment(until, self._inputs(amps))
            except _Stop:
                stopped = True
            if stopped or self.t >= self.phase_end:
                self._next_phase()

    def _segment(self, until: float, inputs: dict[str, float]) -> bool:
        """Integrate to until (or the phase's event), record the readings on the grid in
        between; True if the event ended it."""
        grid = np.arange(math.ceil(self.t / self.step_s), math.ceil(until / self.step_s))
        t_interp = np.concatenate([grid * self.step_s - self.t, [until - self.t]])
        try:
            sol = self.rig.solver.step(
                self.sol,
                self.rig.model,
                until - self.t,
                t_interp=np.clip(t_interp, 0.0, until - self.t),
                inputs=inputs,
                save=False,
            )
        except pybamm.SolverError as error:
            if "bms" in str(error) and "initial conditions" in str(error):
                raise _Stop from error
            raise
        times = sol.t
        values = np.stack([sol[k].entries for k in OUTPUTS], axis=-1)
        for k in grid[grid * self.step_s < times[-1]]:  # the rest come after the event
            at = np.searchsorted(times, k * self.step_s - 1e-6)
            if times[at] <= k * self.step_s + 1e-6:
                v, i, temp = values[at]
                self.rows.append(np.array([v, i, temp - 273.15, self.discharge_ah]))
        stopped = sol.termination != "final time"
        if stopped:  # PyBaMM's step would not go past an event; the next phase goes on from it
            sol.termination = "final time"
        self.sol, self.t = sol, float(times[-1])
        return stopped

    def _charge_ah(self) -> float:
        if self.sol is None:
            return 0.0
        return float(self.sol["Discharge capacity [A.h]"].entries[-1])

    def _next_phase(self) -> None:
        """The BMS's decision at the end of a phase, and its end-of-life check."""
        if self.phase == DISCHARGE:
            self.discharge_ah = self._charge_ah() - self.discharged_from
            if self.first_ah is None:
                self.first_ah = self.discharge_ah
            elif self.discharge_ah < EOL_SHARE * self.first_ah:
                self.life = self.t
        self.phase = (self.phase + 1) % 5
        rest = {REST_EMPTY: self.draw.rest_s[0], REST_FULL: self.draw.rest_s[1]}
        self.phase_end = self.t + rest.get(self.phase, math.inf)
        if self.phase == DISCHARGE:
            self.discharged_from = self._charge_ah()


def _simulate(
    rig: _Rig, seed: np.random.SeedSequence, *, install_s: float, step_s: float, wear_scale: float
) -> tuple[_Cell, int]:
    """One cell to failure; a solver failure redraws it from the next child seed."""
    for attempt, child in enumerate(seed.spawn(REDRAWS)):
        rng = np.random.default_rng(child)
        cell = _Cell(rig, draw_cell(rng=rng, wear_scale=wear_scale), install_s, step_s)
        try:
            cell.run(rng)
        except pybamm.SolverError as error:
            log.warning("cell redrawn after a solver failure (attempt %d): %s", attempt + 1, error)
            continue
        clean = np.array(cell.rows)
        cell.rows = list(clean + rng.normal(size=clean.shape) * CELL_NOISE)
        return cell, attempt
    raise RuntimeError(f"a cell failed to simulate {REDRAWS} times")


def cell_runs(
    *, seed: np.random.SeedSequence, units: int, step_s: float, wear_scale: float, progress: bool
) -> list[Run]:
    """Cell by cell, each from its own seed, through one model built for the fleet."""
    fleet, *cells = seed.spawn(units + 1)
    installs = _installs(np.random.default_rng(fleet), units, step_s)
    rig, runs, redrawn = _Rig(), [], 0
    for j, child in enumerate(tqdm(cells, desc="cell", unit="unit", disable=not progress)):
        cell, retries = _simulate(
            rig, child, install_s=installs[j], step_s=step_s, wear_scale=wear_scale
        )
        redrawn += retries
        assert cell.life is not None and len(cell.rows) == math.ceil(cell.life / step_s)
        unit = f"cell-{j + 1:0{max(2, len(str(units)))}d}"
        runs.append(Run(unit, float(installs[j]), cell.life, "CapacityFade", np.array(cell.rows)))
    if redrawn:
        log.warning("%d cells redrawn after solver failures", redrawn)
    return runs


SETS = {"cell": SetSpec("pybamm-cell", CELL_SENSORS, cell_runs, 1.0)}


# its seeds tagged apart from progpy's sets' (no seed here repeats their draws)
generate = generator(SETS, 1000)


def main(argv: Sequence[str] | None = None) -> int:
    return cli(argv, prog="python -m bench.datasets.pybamm_sets", names=list(SETS), make=generate)


if __name__ == "__main__":
    raise SystemExit(main())
