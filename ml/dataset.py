"""Run-to-failure data in long format, from any source.

``readings``: one row per (unit, time) with one float column per sensor, plus ``type`` (the
machine type; one model of each kind is trained per type where it matters).
``failures``: one row per failure: ``unit``, ``failure`` (timestamp) and optionally
``repaired`` (the unit is down between the two and those rows are not learned from).

Unit ids may be numbers or text: they are compared as text everywhere. The data refuses,
with a message naming what is wrong, what would otherwise be learned silently and wrongly:
a failure of a unit that has no readings, a sensor with no values or one value only, times
that are not on a regular step (``load_csv(..., resample=True)`` averages them onto it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

__all__ = [
    "RunToFailure",
    "DataError",
    "load_csv",
    "regular_step",
    "SENSORS",
]

SENSORS = ("temperature", "vibration", "rpm")

log = logging.getLogger(__name__)


class DataError(ValueError):
    """Run-to-failure data that would be learned from wrongly; the message says why."""


@dataclass
class RunToFailure:
    readings: pd.DataFrame  # unit, time, type, <sensor columns>
    failures: pd.DataFrame  # unit, failure, [repaired]
    sensors: tuple[str, ...] = SENSORS
    # technicians' verdicts (unit, time, confirmed): training weighs the windows they speak of
    verdicts: pd.DataFrame | None = None
    step_s: float | None = None  # seconds per step, when known (``load_csv`` checks it)

    def __post_init__(self) -> None:
        missing = {"unit", "time", *self.sensors} - set(self.readings.columns)
        if missing:
            raise DataError(f"readings lack columns {sorted(missing)}")
        if "type" not in self.readings.columns:
            self.readings = self.readings.assign(type="default")
        if "repaired" not in self.failures.columns:
            self.failures = self.failures.assign(repaired=self.failures["failure"])
        self.readings = self.readings.assign(
            unit=self.readings["unit"].astype(str), type=self.readings["type"].astype(str)
        )
        self.failures = self.failures.assign(unit=self.failures["unit"].astype(str))
        if self.verdicts is not None:
            self.verdicts = self.verdicts.assign(unit=self.verdicts["unit"].astype(str))
        self.readings = self.readings.sort_values(["unit", "time"]).reset_index(drop=True)
        _check_failures(self.failures, set(self.readings["unit"]))

    def span(self) -> tuple[datetime, datetime]:
        return self.readings["time"].min().to_pydatetime(), self.readings[
            "time"
        ].max().to_pydatetime()

    def units(self) -> list[str]:
        return sorted(self.readings["unit"].unique())

    def subset(self, units: set[str]) -> RunToFailure:
        """The same data for some units only."""
        return RunToFailure(
            self.readings[self.readings["unit"].isin(units)],
            self.failures[self.failures["unit"].isin(units)],
            self.sensors,
            None if self.verdicts is None else self.verdicts[self.verdicts["unit"].isin(units)],
            self.step_s,
        )


def _check_failures(failures: pd.DataFrame, units: set[str]) -> None:
    orphans = sorted(set(failures["unit"]) - units)
    if orphans:
        known = sorted(units)[:3]
        raise DataError(
            f"{len(orphans)} failure(s) name units with no readings: {orphans[:5]} "
            f"(readings have units like {known}); check the unit column of both files"
        )


def _check_sensors(readings: pd.DataFrame, sensors: tuple[str, ...]) -> None:
    for sensor in sensors:
        values = pd.to_numeric(readings[sensor], errors="coerce")
        if values.isna().all():
            raise DataError(f"sensor {sensor!r} has no numeric values")
        if values.nunique(dropna=True) < 2:
            raise DataError(
                f"sensor {sensor!r} is constant ({values.dropna().iat[0]:g}): it tells the models "
                "nothing and cannot be standardised; leave it out"
            )


def regular_step(readings: pd.DataFrame, step_s: float | None = None) -> float:
    """The data's step in seconds (the most common one when not given); a unit whose times
    are not whole multiples of it (gaps are allowed) is an error naming the unit."""
    seconds = (readings["time"] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    diffs = seconds.groupby(readings["unit"]).diff().dropna()
    if diffs.empty:
        raise DataError("too few readings to tell the time step")
    step = float(step_s or diffs.round(6).mode().iat[0])
    if step <= 0:
        raise DataError("readings repeat a time within a unit")
    ratio = diffs / step
    off = (ratio < 0.99) | ((ratio - ratio.round()).abs() > 0.01)
    if off.any():
        unit = readings.loc[off[off].index[0], "unit"]
        raise DataError(
            f"unit {unit}: times are not on a regular step of {step:g} s (found steps of "
            f"{diffs[off].min():g}–{diffs[off].max():g} s); resample them onto one step "
            "(--resample averages each unit onto --step-s)"
        )
    gaps = int((ratio > 1.5).sum())
    if gaps:
        log.info("%d gap(s) in the readings: windows across a gap see it as one step", gaps)
    return step


def _resample(readings: pd.DataFrame, sensors: tuple[str, ...], step_s: float) -> pd.DataFrame:
    """Each unit's sensor means per step; gaps of up to three steps filled forward."""
    parts = []
    for unit, part in readings.groupby("unit", sort=False):
        grid = part.set_index("time")[list(sensors)].resample(pd.Timedelta(seconds=step_s)).mean()
        grid = grid.ffill(limit=3).dropna()
        parts.append(grid.reset_index().assign(unit=unit, type=part["type"].iat[0]))
    return pd.concat(parts, ignore_index=True)


def _times(values: pd.Series, time_unit_s: float) -> pd.Series:
    """Timestamps from text, or from numbers counted in ``time_unit_s`` seconds (cycles)."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values.astype(float) * time_unit_s, unit="s", utc=True)
    return pd.to_datetime(values, utc=True)


def load_csv(
    readings: Path,
    failures: Path,
    *,
    sensors: tuple[str, ...] | None = None,
    unit: str = "unit",
    time: str = "time",
    step_s: float | None = None,
    resample: bool = False,
    time_unit_s: float = 1.0,
) -> RunToFailure:
    """Long-format CSVs: readings (unit, time, sensors…, [type]) and failures (unit, failure
    [, repaired]). Times are ISO timestamps or numbers of ``time_unit_s`` seconds. The
    readings must sit on one step (``step_s``, else the most common): ``resample`` averages
    them onto it instead of refusing."""
    frame = pd.read_csv(readings, dtype={unit: str}).rename(columns={unit: "unit", time: "time"})
    frame["time"] = _times(frame["time"], time_unit_s)
    if "type" not in frame.columns:
        frame["type"] = "default"
    fails = pd.read_csv(failures, dtype={unit: str}).rename(columns={unit: "unit"})
    for column in ("failure", "repaired", "onset"):
        if column in fails.columns:
            fails[column] = _times(fails[column], time_unit_s)
    chosen = sensors or tuple(c for c in frame.columns if c not in ("unit", "time", "type"))
    if resample:
        if not step_s:
            raise DataError("resampling needs the step (--step-s)")
        frame = _resample(frame, chosen, step_s)
    step = regular_step(frame.sort_values(["unit", "time"]), step_s)
    _check_sensors(frame, chosen)
    return RunToFailure(frame, fails, chosen, step_s=step)
