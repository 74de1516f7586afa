"""Run-to-failure data from the platform's own database.

Readings are averaged per step in SQL. A failure is the start of a stop: the machine's rpm
below its critical-low limit for at least three steps (what a breakdown looks like in the
readings); the stop's end is the repair. With ``labels=True`` the closed loop's labels join
in (``ml.lab.labels``): recorded breakdowns and tickets confirmed as real failures add the
failures the rpm did not show, and every technician's verdict rides along for training to
weigh up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.fleet_queries import machine_names
from data.models import Sensor
from data.readings import bucketed_readings
from ml.dataset import SENSORS, RunToFailure
from ml.features import epoch_seconds
from ml.lab.labels import breakdowns, verdicts

__all__ = ["history_from_db"]


def history_from_db(
    *,
    session: Session,
    days: float,
    step_s: float,
    time_scale: float = 1.0,
    min_stop_steps: int = 3,
    labels: bool = False,
) -> RunToFailure:
    """The last ``days`` of readings as run-to-failure data. ``time_scale`` stretches wall
    time into physics time (60 for data recorded from the 60x demo simulator)."""
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    frame = bucketed_readings(session=session, since=since, step_s=step_s)
    if frame.empty:
        raise ValueError("no readings in the database for that period")
    wide = frame.pivot_table(
        index=["machine_id", "type", "bucket"], columns="kind", values="value"
    ).reset_index()
    wide = wide.dropna(subset=[s for s in SENSORS if s in wide.columns])
    names = machine_names(session=session)
    start = wide["bucket"].min() * step_s
    seconds = start + (wide["bucket"] * step_s - start) * time_scale
    readings = pd.DataFrame(
        {
            "unit": wide["machine_id"].map(names),
            "type": wide["type"],
            "time": pd.to_datetime(seconds, unit="s", utc=True),
            **{s: wide[s] for s in SENSORS},
        }
    )
    limits = dict(
        session.execute(
            select(Sensor.machine_id, Sensor.crit_low).where(Sensor.kind == "rpm")
        ).all()
    )
    stops = []
    for machine_id, part in readings.assign(mid=wide["machine_id"]).groupby("mid"):
        limit = limits.get(machine_id)
        if limit is not None:
            stops += _stops(part, limit, min_stop_steps)
    failures = pd.DataFrame(stops, columns=["unit", "failure", "repaired"])
    if not labels:
        return RunToFailure(readings.reset_index(drop=True), failures)

    def physics(times: pd.Series) -> pd.Series:  # the readings' time axis, stretched alike
        wall = epoch_seconds(pd.to_datetime(times, utc=True))
        return pd.to_datetime(start + (wall - start) * time_scale, unit="s", utc=True)

    told = verdicts(session=session, since=since).assign(time=lambda f: physics(f["time"]))
    recorded = breakdowns(session=session, since=since)
    recorded = recorded.assign(
        failure=physics(recorded["failure"]), repaired=physics(recorded["repaired"])
    )
    confirmed = told[told["confirmed"]].rename(columns={"time": "failure"})
    extra = pd.concat(
        [
            recorded[["unit", "failure", "repaired"]],
            confirmed.assign(repaired=confirmed["failure"])[["unit", "failure", "repaired"]],
        ],
        ignore_index=True,
    )
    for column in ("failure", "repaired"):  # an empty frame has no dtype to subtract with
        failures[column] = pd.to_datetime(failures[column], utc=True)
    tolerance = pd.Timedelta(seconds=max(3 * step_s * time_scale, 1800))
    for row in extra.itertuples():  # the same breakdown seen twice counts once
        mine = failures[failures["unit"] == row.unit]
        if not ((mine["failure"] - row.failure).abs() <= tolerance).any():
            failures = pd.concat([failures, pd.DataFrame([row._asdict()]).drop(columns="Index")])
    known = told[told["unit"].isin(set(readings["unit"]))]
    return RunToFailure(
        readings.reset_index(drop=True), failures.reset_index(drop=True), verdicts=known
    )


def _stops(part: pd.DataFrame, rpm_limit: float, min_steps: int) -> list[tuple]:
    stopped = (part["rpm"] < rpm_limit).to_numpy()
    edges = np.flatnonzero(np.diff(np.r_[0, stopped.astype(int), 0]))
    times = part["time"].to_numpy()
    out = []
    for begin, end in zip(edges[::2], edges[1::2], strict=True):
        if end - begin >= min_steps and begin > 0:  # a stop already under way is no failure seen
            out.append(
                (part["unit"].iat[0], pd.Timestamp(times[begin]), pd.Timestamp(times[end - 1]))
            )
    return out
