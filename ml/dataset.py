"""Run-to-failure data in long format, from any source.

``readings``: one row per (unit, time) with one float column per sensor, plus ``type`` (the
machine type; one model of each kind is trained per type where it matters).
``failures``: one row per failure: ``unit``, ``failure`` (timestamp) and optionally
``repaired`` (the unit is down between the two and those rows are not learned from).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["RunToFailure", "load_csv", "simulate_history", "SENSORS"]

SENSORS = ("temperature", "vibration", "rpm")


@dataclass
class RunToFailure:
    readings: pd.DataFrame  # unit, time, type, <sensor columns>
    failures: pd.DataFrame  # unit, failure, [repaired]
    sensors: tuple[str, ...] = SENSORS
    # technicians' verdicts (unit, time, confirmed): training weighs the windows they speak of
    verdicts: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        missing = {"unit", "time", *self.sensors} - set(self.readings.columns)
        if missing:
            raise ValueError(f"readings lack columns {sorted(missing)}")
        if "type" not in self.readings.columns:
            self.readings = self.readings.assign(type="default")
        if "repaired" not in self.failures.columns:
            self.failures = self.failures.assign(repaired=self.failures["failure"])
        self.readings = self.readings.sort_values(["unit", "time"]).reset_index(drop=True)

    def span(self) -> tuple[datetime, datetime]:
        return self.readings["time"].min().to_pydatetime(), self.readings[
            "time"
        ].max().to_pydatetime()


def load_csv(
    readings: Path,
    failures: Path,
    *,
    sensors: tuple[str, ...] | None = None,
    unit: str = "unit",
    time: str = "time",
) -> RunToFailure:
    """Long-format CSVs: readings (unit, time, sensors…, [type]) and failures (unit, failure)."""
    frame = pd.read_csv(readings).rename(columns={unit: "unit", time: "time"})
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    fails = pd.read_csv(failures).rename(columns={unit: "unit"})
    for column in ("failure", "repaired"):
        if column in fails.columns:
            fails[column] = pd.to_datetime(fails[column], utc=True)
    chosen = sensors or tuple(c for c in frame.columns if c not in ("unit", "time", "type"))
    return RunToFailure(frame, fails, chosen)


def simulate_history(
    *,
    machines: int,
    days: float,
    step_s: float = 60.0,
    seed: int = 7,
    end: datetime | None = None,
    progress: bool = False,
) -> RunToFailure:
    """A labelled fleet history from the simulator: faults at random, ground truth recorded."""
    from simulator.fleet import FleetSimulator, demo_fleet

    fleet = demo_fleet(machines)
    end = end or datetime.now(UTC).replace(second=0, microsecond=0)
    start = (end - timedelta(days=days)).timestamp()
    sim = FleetSimulator(fleet, speed=1.0, seed=seed, start=start, first_fault_after_s=None)
    steps = int(days * 86_400 / step_s)
    times = start + np.arange(steps) * step_s
    rows = np.empty((steps, len(fleet), len(SENSORS)))
    iterator = range(steps)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="simulating history", unit="step", leave=False)
    for i in iterator:
        sample = sim.sample(float(times[i]))
        for j, m in enumerate(fleet):
            rows[i, j] = [sample[m.name][s] for s in SENSORS]
    frame = pd.DataFrame(
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
    return RunToFailure(frame, failures)
