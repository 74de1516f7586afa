"""A labelled fleet history as plain tables, for learning and evaluating models: the readings
in long format (unit, type, time, one column per sensor) and the ground truth of every fault
(unit, failure, repaired, onset, mode). The format is ``ml.dataset.RunToFailure``'s; the
simulator does not import it (it sits below the model layer), its callers wrap the tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from simulator.fleet_physics import MACHINE_TYPES, FleetSimulator, demo_fleet

__all__ = ["SENSORS", "labelled_history", "warning_limits"]

SENSORS = ("temperature", "vibration", "rpm")


def labelled_history(
    *,
    machines: int,
    days: float,
    step_s: float = 60.0,
    seed: int = 7,
    end: datetime | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(readings, failures) of a demo fleet of ``machines`` over ``days``, faults at random."""
    fleet = demo_fleet(machines)
    end = end or datetime.now(UTC).replace(second=0, microsecond=0)
    start = (end - timedelta(days=days)).timestamp()
    sim = FleetSimulator(fleet, speed=1.0, seed=seed, start=start, first_fault_after_s=None)
    steps = int(days * 86_400 / step_s)
    times = start + np.arange(steps) * step_s
    rows = np.empty((steps, len(fleet), len(SENSORS)))
    iterator = range(steps)
    if progress:
        from tqdm import tqdm  # only the command-line tools draw a bar

        iterator = tqdm(iterator, desc="simulating history", unit="step", leave=False)
    for i in iterator:
        sample = sim.sample(float(times[i]))
        for j, m in enumerate(fleet):
            rows[i, j] = [sample[m.name][s] for s in SENSORS]
    readings = pd.DataFrame(
        {
            "unit": np.repeat([[m.name for m in fleet]], steps, axis=0).ravel(),
            "type": np.repeat([[m.type for m in fleet]], steps, axis=0).ravel(),
            "time": pd.to_datetime(np.repeat(times, len(fleet)), unit="s", utc=True),
            **{s: rows[:, :, k].ravel() for k, s in enumerate(SENSORS)},
        }
    )
    failures = pd.DataFrame(
        [
            (e.machine, e.failure, e.repaired, e.onset, e.mode)
            for e in sim.episodes
            if e.failure.timestamp() <= times[-1]
        ],
        columns=["unit", "failure", "repaired", "onset", "mode"],
    )
    return readings, failures


def warning_limits() -> dict[str, dict[str, tuple[float | None, float | None]]]:
    """The simulated machine types' warning limits (type → sensor → (low, high)), for
    replaying the threshold rules over a simulated history."""
    return {
        name: {d.key: (d.warn_low, d.warn_high) for d in kind.sensors()}
        for name, kind in MACHINE_TYPES.items()
    }
